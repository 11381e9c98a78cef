// API errors are shown in words next to what caused them and leave nothing half-done; the
// session and CSRF contract; the page under the server's Content-Security-Policy.
//
// The 409 comes from the real server (the key is renamed behind the window's back). A 403, a 429
// and a 503 cannot be provoked on demand from a browser, so their answers are put in place of the
// real server's with page.route, in exactly the server's shape ({id, message}, Retry-After).

import {
  CONFIRM_LABEL,
  MIA,
  OLGA,
  apiAs,
  closeSecretWindow,
  confirmRowAction,
  createKeyInWindow,
  createKeyViaApi,
  dialog,
  expect,
  fillCreateWindow,
  fulfillApiError,
  KEYS_PATH,
  openConsole,
  openRowAction,
  renameKeyViaApi,
  row,
  signIn,
  signInWithButton,
  test,
  uniqueName,
} from "./fixtures";

test("a confirmation name that no longer matches (409) is shown next to the name field and nothing changes", async ({
  page,
  stack,
  playwright,
}) => {
  const olga = await apiAs(playwright, stack, OLGA);
  const key = await createKeyViaApi(olga, stack, {
    name: uniqueName(stack, "renamed-behind"),
    all_models: true,
  });
  await signIn(page, stack, OLGA);
  const hint = key.secret.slice(-4);
  await openRowAction(page, key.name, "Regenerate");
  const window = dialog(page, "Regenerate model access key");
  const field = window.getByLabel(CONFIRM_LABEL);
  await field.fill(key.name);
  await renameKeyViaApi(olga, stack, key.uuid, `${key.name}-elsewhere`);
  await olga.dispose();
  await window.getByRole("button", { name: "Regenerate access key" }).click();
  const alert = window.getByRole("alert");
  await expect(alert).toContainText(
    "the name you typed is no longer the key's name",
  );
  await expect(field).toHaveAttribute("aria-invalid", "true");
  await expect(field).toHaveAccessibleDescription(/no longer the key's name/);
  await expect(window.getByRole("button", { name: "Copy secret" })).toHaveCount(
    0,
  );
  await page.keyboard.press("Escape");
  await expect(row(page, `${key.name}-elsewhere`)).toContainText(hint);
});

test("a 403 is shown in words in the window and the key is left as it was", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  const name = uniqueName(stack, "forbidden");
  const created = await createKeyInWindow(page, { name });
  await created.getByRole("button", { name: "Done" }).click();
  await page.route(`${stack.apiUrl}${KEYS_PATH}/*`, async (route) => {
    if (route.request().method() !== "DELETE") return route.continue();
    return fulfillApiError(route, 403, {
      id: "forbidden",
      message: "only the key's creator or a team owner may delete it",
    });
  });
  const window = await confirmRowAction(page, name, "Delete");
  await expect(window.getByRole("alert")).toHaveText(
    "Deleting the key was refused: you are not allowed to do this (only the key's creator or a team owner may delete it).",
  );
  await expect(window).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(row(page, name)).toBeVisible();
});

test("a 429 shows the wait from Retry-After and Add waits that long", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  let refused = 0;
  await page.route(`${stack.apiUrl}${KEYS_PATH}`, async (route) => {
    if (route.request().method() !== "POST" || refused > 0)
      return route.continue();
    refused += 1;
    return fulfillApiError(
      route,
      429,
      {
        id: "too_many_requests",
        message: "too many commands: at most 50 per second per user",
      },
      2,
    );
  });
  const name = uniqueName(stack, "rate-limited");
  const window = await fillCreateWindow(page, { name });
  const add = window.getByRole("button", { name: "Add model access key" });
  await add.click();
  await expect(window.getByRole("alert")).toContainText(
    "Wait 2 seconds and try again.",
  );
  await expect(add).toBeDisabled();
  await expect(row(page, name)).toHaveCount(0);
  await expect(add).toBeEnabled({ timeout: 5_000 });
  await add.click();
  await expect(
    window.getByRole("button", { name: "Copy secret" }),
  ).toBeVisible();
  const secret = await window.getByLabel("Secret key").inputValue();
  await closeSecretWindow(page, window, secret);
  await expect(row(page, name)).toBeVisible();
});

test("a 503 leaves nothing half-done, and the retry sends the same Idempotency-Key", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const keys: string[] = [];
  await page.route(`${stack.apiUrl}${KEYS_PATH}`, async (route) => {
    const request = route.request();
    if (request.method() !== "POST") return route.continue();
    keys.push((await request.headerValue("Idempotency-Key")) ?? "");
    if (keys.length === 1) {
      return fulfillApiError(
        route,
        503,
        {
          id: "service_unavailable",
          message: "the event log is unavailable; nothing was written",
        },
        1,
      );
    }
    return route.continue();
  });
  const name = uniqueName(stack, "unavailable");
  const window = await fillCreateWindow(page, { name });
  await window.getByRole("button", { name: "Add model access key" }).click();
  await expect(window.getByRole("alert")).toHaveText(
    "Creating the key failed: the key service is temporarily unavailable (the event log is unavailable; nothing was written). Nothing was changed. Try again in 1 second.",
  );
  await expect(window.getByLabel("Secret key")).toHaveCount(0);
  await expect(row(page, name)).toHaveCount(0);
  await window.getByRole("button", { name: "Add model access key" }).click();
  await expect(
    window.getByRole("button", { name: "Copy secret" }),
  ).toBeVisible();
  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(keys[1]).toBe(keys[0]);
  await window.getByRole("button", { name: "Done" }).click();
  await expect(row(page, name)).toHaveCount(1);
});

test("the API refuses an unsafe request that lacks the CSRF header", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const answer = await page.request.post(`${stack.apiUrl}${KEYS_PATH}`, {
    data: { name: uniqueName(stack, "no-csrf"), all_models: true },
  });
  expect(answer.status()).toBe(403);
  expect(((await answer.json()) as { id: string }).id).toBe("csrf_required");
});

test("the session cookie is HttpOnly and never visible to the page", async ({
  page,
  stack,
}) => {
  await signInWithButton(page, stack, OLGA);
  const cookies = await page.context().cookies(stack.apiUrl);
  const session = cookies.find((c) => c.name === "keyledger_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");
  expect(await page.evaluate(() => document.cookie)).not.toContain(
    "keyledger_session",
  );
  expect(
    await page.evaluate(() => localStorage.length + sessionStorage.length),
  ).toBe(0);
  expect(page.url()).not.toContain(session?.value ?? "no session");
});

test("without a session the page offers development sign-in, and Sign out returns there", async ({
  page,
  stack,
}) => {
  await openConsole(page, stack);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  for (const label of [
    "Sign in as Olga Owner (owner)",
    "Sign in as Mia Member (member)",
    "Sign in as Omar Owner (owner)",
    "Sign in as Gina Globex (owner)",
  ]) {
    await expect(page.getByRole("button", { name: label })).toBeVisible();
  }
  await page
    .getByRole("button", { name: "Sign in as Olga Owner (owner)" })
    .click();
  await expect(page.getByText("Signed in as Olga Owner")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  const me = await page.request.get(`${stack.apiUrl}/v2/gen-ai/me`);
  expect(me.status()).toBe(401);
});

test("the page works under the server's Content-Security-Policy without a violation", async ({
  page,
  stack,
}) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy"))
      violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      // In the page: report each violation to the test's console listener.
      // eslint-disable-next-line no-console
      console.error(
        `Content Security Policy violation: ${event.violatedDirective}`,
      );
    });
  });
  const response = await page.goto(`${stack.apiUrl}/console/`);
  expect(response?.headers()["content-security-policy"]).toContain(
    "script-src 'self'",
  );
  await page
    .getByRole("button", { name: "Sign in as Olga Owner (owner)" })
    .click();
  const name = uniqueName(stack, "csp");
  const window = await createKeyInWindow(page, {
    name,
    models: ["GPT-4o (OpenAI)"],
  });
  await window.getByRole("button", { name: "Done" }).click();
  await row(page, name).getByRole("button", { name: "GPT-4o" }).hover();
  await expect(page.getByRole("tooltip")).toBeVisible();
  expect(violations).toEqual([]);
});
