// Key expiry and last use on the Manage Model Access Keys page, against the real API: a key
// created to expire shows when, with a badge within 30 days, and "Never" until it is used; a
// lifetime the operator does not allow is refused in words in the create window.
//
// Needs a server that knows key expiry and last use (api/openapi.yaml's expires_at, expired and
// last_used_at; its `serve --help` lists --max-key-lifetime). The refusal (400) is put in place
// of the real server's answer with page.route, in the server's shape ({id, message}), as
// errors.spec.ts does, because the stack runs without a maximum lifetime.

import {
  KEYS_PATH,
  OLGA,
  closeSecretWindow,
  createKeyInWindow,
  dialog,
  expect,
  expectNoHorizontalScroll,
  expectNoSeriousA11yViolations,
  fillCreateWindow,
  fulfillApiError,
  row,
  signIn,
  test,
  uniqueName,
} from "./fixtures";
import type { Page, Request } from "@playwright/test";

const DAY_MS = 86_400_000;

function createRequest(page: Page): Promise<Request> {
  return page.waitForRequest(
    (r) => r.method() === "POST" && new URL(r.url()).pathname === KEYS_PATH,
  );
}

test("owner creates a key that expires in 30 days: its row says so and that it was never used", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "expires-30");
  const sent = createRequest(page);
  const before = Date.now();
  const window = await createKeyInWindow(page, { name, expires: "30 days" });
  const after = Date.now();
  const body = (await sent).postDataJSON() as { expires_at?: string };
  const expiresAt = Date.parse(body.expires_at ?? "");
  expect(expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY_MS);
  expect(expiresAt).toBeLessThanOrEqual(after + 30 * DAY_MS);
  const secret = await window.getByLabel("Secret key").inputValue();
  await closeSecretWindow(page, window, secret);

  // The secret is not used, so the key stays "Never" used.
  const created = row(page, name);
  await expect(created).toBeVisible();
  await expect(
    page.getByRole("columnheader", { name: "Last used" }),
  ).toBeVisible();
  await expect(
    page.getByRole("columnheader", { name: "Expires" }),
  ).toBeVisible();
  await expect(
    created.getByRole("cell", { name: "Never", exact: true }),
  ).toBeVisible();
  // A moment under 30 days left rounds up to 30; 29 should the server keep a coarser instant.
  await expect(created.getByText(/^Expires in (29|30) days$/)).toBeVisible();
  await expect(created.getByText("Expired", { exact: true })).toHaveCount(0);

  await expectNoSeriousA11yViolations(page, "a key that expires in 30 days");
  await expectNoHorizontalScroll(page);
  // Narrow, the rows are cards (no table roles to find them by): the same page, checked again.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(
    page.getByText(/^Expires in (29|30) days$/).first(),
  ).toBeVisible();
  await expectNoSeriousA11yViolations(
    page,
    "a key that expires in 30 days (390x844)",
  );
  await expectNoHorizontalScroll(page);
});

test("a lifetime beyond the operator's maximum (400) is said in the create window, and a shorter one is accepted", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const refusal = {
    id: "bad_request",
    message:
      "expires_at is further ahead than this platform allows (at most 90 days, 7776000 s)",
  };
  const bodies: { expires_at?: string }[] = [];
  await page.route(`${stack.apiUrl}${KEYS_PATH}`, async (route) => {
    const request = route.request();
    if (request.method() !== "POST") return route.continue();
    bodies.push(request.postDataJSON() as { expires_at?: string });
    if (bodies.length === 1) return fulfillApiError(route, 400, refusal);
    return route.continue();
  });
  const name = uniqueName(stack, "too-long");
  const window = await fillCreateWindow(page, { name, expires: "1 year" });
  const add = window.getByRole("button", { name: "Add model access key" });
  await add.click();
  await expect(window.getByRole("alert")).toHaveText(
    `Creating the key failed: the server refused the input (${refusal.message}).`,
  );
  await expect(window.getByLabel("Secret key")).toHaveCount(0);
  await expect(row(page, name)).toHaveCount(0);
  await expect(window.getByLabel("Expires", { exact: true })).toHaveValue(
    "365",
  );

  await window
    .getByLabel("Expires", { exact: true })
    .selectOption({ label: "90 days" });
  await add.click();
  await expect(
    window.getByRole("button", { name: "Copy secret" }),
  ).toBeVisible();
  expect(bodies).toHaveLength(2);
  const [tooLong, accepted] = bodies.map((b) => Date.parse(b.expires_at ?? ""));
  expect((tooLong ?? 0) - (accepted ?? 0)).toBeGreaterThan(270 * DAY_MS);
  const secret = await window.getByLabel("Secret key").inputValue();
  await closeSecretWindow(page, window, secret);
  await expect(dialog(page, "Create model access key")).toBeHidden();
  // 90 days ahead: the date, and no badge yet.
  const created = row(page, name);
  await expect(created).toBeVisible();
  await expect(created.getByText(/^Expires in/)).toHaveCount(0);
  await expect(created.getByText("Expired", { exact: true })).toHaveCount(0);
});
