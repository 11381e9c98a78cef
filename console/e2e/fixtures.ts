// What the end-to-end specs share: the running stack, signing in as the development users,
// finding the page's parts by role and label, the validator checks, the "secret is gone"
// check, axe, and screenshots.

import AxeBuilder from "@axe-core/playwright";
import {
  expect,
  test as base,
  type APIRequestContext,
  type BrowserContext,
  type Locator,
  type Page,
  type Route,
} from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CONSOLE_DIR, readState, type StackState } from "./stack";

export { expect };

export interface DevUser {
  userId: string;
  name: string;
  role: "owner" | "member";
}

function devUser(userId: string, name: string, role: DevUser["role"]): DevUser {
  return { userId, name, role };
}

// The development users of `serve --dev-sign-in` (Gina is on another team, Globex).
export const OLGA = devUser("user-olga", "Olga Owner", "owner");
export const MIA = devUser("user-mia", "Mia Member", "member");
export const OMAR = devUser("user-omar", "Omar Owner", "owner");
export const GINA = devUser("user-gina", "Gina Globex", "owner");

export const KEYS_PATH = "/v2/gen-ai/models/api_keys";
// The suite writes its screenshots under test-results/ (ignored); with
// KEYLEDGER_UPDATE_SCREENSHOTS=1 it refreshes the ones console/README.md shows instead, so that a
// test run never changes tracked files.
export const SCREENSHOTS =
  process.env["KEYLEDGER_UPDATE_SCREENSHOTS"] === "1"
    ? join(CONSOLE_DIR, "docs", "screenshots")
    : join(CONSOLE_DIR, "test-results", "screenshots");

export const test = base.extend<{ stack: StackState }>({
  // eslint-disable-next-line no-empty-pattern
  stack: async ({}, use) => {
    await use(readState());
  },
});

let counter = 0;

// A key name no other test uses.
export function uniqueName(stack: StackState, prefix: string): string {
  counter += 1;
  return `${prefix}-${stack.runId}-${String(counter)}-${Date.now().toString(36).slice(-4)}`;
}

export function legacyKey(stack: StackState, prefix: string): string {
  const seed = stack.legacyKeys.find((k) => k.name.startsWith(`${prefix}-`));
  if (!seed) throw new Error(`no legacy key ${prefix}`);
  return seed.name;
}

export async function openConsole(
  page: Page,
  stack: StackState,
): Promise<void> {
  await page.goto(`${stack.apiUrl}/console/`);
}

// Signs in through the page's development sign-in buttons.
export async function signInWithButton(
  page: Page,
  stack: StackState,
  user: DevUser,
): Promise<void> {
  await openConsole(page, stack);
  await page
    .getByRole("button", { name: `Sign in as ${user.name} (${user.role})` })
    .click();
  await expectSignedIn(page, user);
}

// Signs the browser context in through the API (sets the HttpOnly cookie), then opens the page.
export async function signIn(
  page: Page,
  stack: StackState,
  user: DevUser,
): Promise<void> {
  await signInContext(page.context(), stack, user);
  await openConsole(page, stack);
  await expectSignedIn(page, user);
}

export async function signInContext(
  context: BrowserContext,
  stack: StackState,
  user: DevUser,
): Promise<void> {
  await devSignIn(context.request, stack, user);
}

// Sets the session cookie of `user` in the cookie jar of `request`.
async function devSignIn(
  request: APIRequestContext,
  stack: StackState,
  user: DevUser,
): Promise<void> {
  const response = await request.post(`${stack.apiUrl}/console/dev-sign-in`, {
    headers: { "X-Keyledger-Csrf": "1" },
    data: { user_id: user.userId },
  });
  expect(response.status(), await response.text()).toBe(204);
}

export async function expectSignedIn(page: Page, user: DevUser): Promise<void> {
  await expect(
    page.getByRole("heading", { name: "Manage Model Access Keys" }),
  ).toBeVisible();
  await expect(page.getByText(`Signed in as ${user.name}`)).toBeVisible();
  await expect(page.getByRole("tabpanel")).toHaveAttribute(
    "aria-busy",
    "false",
  );
}

// The test's `playwright` fixture, as far as arranging data needs it.
export interface Requests {
  request: { newContext(): Promise<APIRequestContext> };
}

// A request context signed in as `user` (its own cookie jar), for arranging data.
export async function apiAs(
  playwright: Requests,
  stack: StackState,
  user: DevUser,
): Promise<APIRequestContext> {
  const request = await playwright.request.newContext();
  await devSignIn(request, stack, user);
  return request;
}

export interface CreatedKey {
  uuid: string;
  name: string;
  secret: string;
}

export async function createKeyViaApi(
  request: APIRequestContext,
  stack: StackState,
  body: Record<string, unknown>,
): Promise<CreatedKey> {
  const response = await request.post(`${stack.apiUrl}${KEYS_PATH}`, {
    headers: {
      "X-Keyledger-Csrf": "1",
      "Idempotency-Key": crypto.randomUUID(),
    },
    data: body,
  });
  expect(response.status(), await response.text()).toBe(201);
  const json = (await response.json()) as {
    api_key_info: { uuid: string; name: string; secret_key: string };
  };
  return {
    uuid: json.api_key_info.uuid,
    name: json.api_key_info.name,
    secret: json.api_key_info.secret_key,
  };
}

// An all-models key that `user` created through the API, named after `prefix`.
export async function createKeyAs(
  playwright: Requests,
  stack: StackState,
  user: DevUser,
  prefix: string,
): Promise<CreatedKey> {
  const request = await apiAs(playwright, stack, user);
  const key = await createKeyViaApi(request, stack, {
    name: uniqueName(stack, prefix),
    all_models: true,
  });
  await request.dispose();
  return key;
}

export async function renameKeyViaApi(
  request: APIRequestContext,
  stack: StackState,
  uuid: string,
  name: string,
): Promise<void> {
  const response = await request.put(`${stack.apiUrl}${KEYS_PATH}/${uuid}`, {
    headers: { "X-Keyledger-Csrf": "1" },
    data: { name },
  });
  expect(response.status(), await response.text()).toBe(200);
}

// --- the page's parts -------------------------------------------------------------------------

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function row(page: Page, keyName: string): Locator {
  return page.getByRole("row").filter({
    has: page.getByRole("rowheader", {
      name: new RegExp(`^${escapeRegExp(keyName)}( Legacy)?$`),
    }),
  });
}

export function menuButton(page: Page, keyName: string): Locator {
  return page.getByRole("button", {
    name: `Actions for ${keyName}`,
    exact: true,
  });
}

export function dialog(page: Page, title: string): Locator {
  return page.getByRole("dialog", { name: title });
}

export async function selectTab(page: Page, label: string): Promise<void> {
  await page.getByRole("tab", { name: label, exact: true }).click();
  await expect(
    page.getByRole("tab", { name: label, exact: true }),
  ).toHaveAttribute("aria-selected", "true");
  await expect(page.getByRole("tabpanel")).toHaveAttribute(
    "aria-busy",
    "false",
  );
}

export async function openRowAction(
  page: Page,
  keyName: string,
  action: "Rename" | "Regenerate" | "Delete",
): Promise<void> {
  await menuButton(page, keyName).click();
  await page.getByRole("menuitem", { name: action }).click();
}

export interface CreateWindowInput {
  name: string;
  // Select models (by checkbox name) instead of All models.
  models?: string[];
  batch?: boolean;
  vpcName?: string;
  // The Expires choice by its label ("30 days"); Never when left out.
  expires?: string;
}

// Opens the create window and fills both steps; leaves it on step 2 before Add.
export async function fillCreateWindow(
  page: Page,
  options: CreateWindowInput,
): Promise<Locator> {
  await page.getByRole("button", { name: "Create model access key" }).click();
  const window = dialog(page, "Create model access key");
  await expect(window).toBeVisible();
  await window.getByLabel("Access Key Name").fill(options.name);
  if (options.models) {
    await window.getByRole("radio", { name: "Select models" }).check();
    for (const model of options.models) {
      await window
        .getByLabel("Search models")
        .fill(model.replace(/ \(.*\)$/, ""));
      await window.getByRole("checkbox", { name: model, exact: true }).check();
    }
    await window.getByLabel("Search models").fill("");
  } else if (options.batch === true) {
    await window
      .getByRole("switch", {
        name: "Enable batch inferencing for OpenAI and Anthropic text models",
      })
      .check();
  }
  await window.getByRole("button", { name: "Continue" }).click();
  if (options.vpcName !== undefined) {
    await window.getByRole("radio", { name: "Custom team VPCs" }).check();
    const select = window.getByLabel("Team VPC", { exact: true });
    const label = await select
      .locator("option")
      .filter({ hasText: options.vpcName })
      .first()
      .textContent();
    await select.selectOption({ label: label ?? options.vpcName });
  }
  if (options.expires !== undefined) {
    await window
      .getByLabel("Expires", { exact: true })
      .selectOption({ label: options.expires });
  }
  return window;
}

// Fills the create window and adds the key; leaves the secret window open.
export async function createKeyInWindow(
  page: Page,
  options: CreateWindowInput,
): Promise<Locator> {
  const window = await fillCreateWindow(page, options);
  await window.getByRole("button", { name: "Add model access key" }).click();
  await expect(
    window.getByRole("button", { name: "Copy secret" }),
  ).toBeVisible();
  return window;
}

// The windows confirmed by typing the key's name.
const CONFIRMED = {
  Regenerate: {
    title: "Regenerate model access key",
    button: "Regenerate access key",
  },
  Delete: { title: "Delete model access key", button: "Delete access key" },
} as const;

export const CONFIRM_LABEL = "Type the key name to confirm";

// In the open Regenerate or Delete window: types the key's name and presses the confirm button.
export async function confirmInWindow(
  page: Page,
  keyName: string,
  action: keyof typeof CONFIRMED,
): Promise<Locator> {
  const window = dialog(page, CONFIRMED[action].title);
  await window.getByLabel(CONFIRM_LABEL).fill(keyName);
  await window.getByRole("button", { name: CONFIRMED[action].button }).click();
  return window;
}

// Regenerates or deletes the key from its row's menu, confirmed with its name.
export async function confirmRowAction(
  page: Page,
  keyName: string,
  action: keyof typeof CONFIRMED,
): Promise<Locator> {
  await openRowAction(page, keyName, action);
  return confirmInWindow(page, keyName, action);
}

// The revocation receipt line of a Regenerate or Delete window, after the command.
export function revocationLine(window: Locator): Locator {
  return window.getByRole("status").filter({ hasText: /validators/ });
}

// The stack runs one validator, which sends a heartbeat every second: the receipt line reaches
// "denied on 1 of 1 validators", shown as done (✓ and the time it took).
export async function expectRevokedOnEveryValidator(
  window: Locator,
): Promise<void> {
  await expect(revocationLine(window)).toHaveText(
    /^✓ Old secret denied on 1 of 1 validators( in \d+(\.\d)? m?s)?$/,
    { timeout: 20_000 },
  );
}

// After a delete: the window says the key was deleted; Done closes it.
export async function closeDeletedWindow(window: Locator): Promise<void> {
  await expect(
    window.getByRole("heading", { name: "Key deleted" }),
  ).toBeVisible();
  await window.getByRole("button", { name: "Done" }).click();
  await expect(window).toBeHidden();
}

// Copies the secret with the window's button and reads it back from the clipboard.
export async function copySecret(page: Page, window: Locator): Promise<string> {
  const fromField = await window.getByLabel("Secret key").inputValue();
  expect(fromField).toMatch(/^sk-do-v1-[0-9A-Za-z]+$/);
  await window.getByRole("button", { name: "Copy secret" }).click();
  await expect(window.getByText("Copied to the clipboard.")).toBeVisible();
  const fromClipboard = await page.evaluate(() =>
    navigator.clipboard.readText(),
  );
  expect(fromClipboard).toBe(fromField);
  return fromClipboard;
}

export async function grantClipboard(
  context: BrowserContext,
  stack: StackState,
): Promise<void> {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], {
    origin: stack.apiUrl,
  });
}

// Every test of the calling spec file may use the clipboard (call at the file's top level).
export function grantClipboardInEachTest(): void {
  test.beforeEach(async ({ page, stack }) => {
    await grantClipboard(page.context(), stack);
  });
}

// Closes a secret window with Done and checks the secret left the page.
export async function closeSecretWindow(
  page: Page,
  window: Locator,
  secret: string,
): Promise<void> {
  await window.getByRole("button", { name: "Done" }).click();
  await expectSecretGone(page, secret);
}

// Creates a key (all models) in the window, copies its secret, closes the window, and waits
// until the validator allows the secret; returns the secret.
export async function createKeyWithWorkingSecret(
  page: Page,
  stack: StackState,
  name: string,
): Promise<string> {
  const created = await createKeyInWindow(page, { name });
  const secret = await copySecret(page, created);
  await created.getByRole("button", { name: "Done" }).click();
  await expectValidatorAllows(stack, secret);
  return secret;
}

// Answers a request routed with page.route as the API refuses one: {id, message}, Retry-After.
export async function fulfillApiError(
  route: Route,
  status: number,
  body: { id: string; message: string },
  retryAfterSeconds?: number,
): Promise<void> {
  await route.fulfill({
    status,
    contentType: "application/json",
    ...(retryAfterSeconds === undefined
      ? {}
      : { headers: { "Retry-After": String(retryAfterSeconds) } }),
    body: JSON.stringify(body),
  });
}

// After a secret window closed: the secret is nowhere in the page or its storage.
export async function expectSecretGone(
  page: Page,
  secret: string,
): Promise<void> {
  const traces = await page.evaluate((s) => {
    const storage = (area: Storage): string => {
      let text = "";
      for (let i = 0; i < area.length; i++) {
        const name = area.key(i) ?? "";
        text += `${name}=${area.getItem(name) ?? ""};`;
      }
      return text;
    };
    return {
      outerHTML: document.documentElement.outerHTML.includes(s),
      fieldValues: [...document.querySelectorAll("input, textarea")].some((e) =>
        (e as HTMLInputElement).value.includes(s),
      ),
      localStorage: storage(localStorage).includes(s),
      sessionStorage: storage(sessionStorage).includes(s),
      cookie: document.cookie.includes(s),
      url: location.href.includes(s),
    };
  }, secret);
  expect(traces).toEqual({
    outerHTML: false,
    fieldValues: false,
    localStorage: false,
    sessionStorage: false,
    cookie: false,
    url: false,
  });
  const cookies = await page.context().cookies();
  expect(cookies.some((c) => c.value.includes(secret))).toBe(false);
}

// --- the validator ----------------------------------------------------------------------------

export async function validatorStatus(
  stack: StackState,
  secret: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(`${stack.validatorUrl}/v1/chat/completions`, {
    headers: {
      Authorization: `Bearer ${secret}`,
      "X-Keyledger-Model": "openai-gpt-4o",
      ...headers,
    },
  });
  return response.status;
}

const POLL = { timeout: 5_000, intervals: [50, 100, 200, 250] };

export async function expectValidatorAllows(
  stack: StackState,
  secret: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await expect
    .poll(() => validatorStatus(stack, secret, headers), {
      ...POLL,
      message: "the validator allows the secret",
    })
    .toBe(200);
}

export async function expectValidatorDenies(
  stack: StackState,
  secret: string,
): Promise<void> {
  await expect
    .poll(() => validatorStatus(stack, secret), {
      ...POLL,
      message: "the validator denies the secret",
    })
    .toBe(401);
}

// --- accessibility and screenshots ------------------------------------------------------------

export async function expectNoSeriousA11yViolations(
  page: Page,
  what: string,
): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact ?? ""}): ${v.help} at ${v.nodes
          .map((n) => n.target.join(" "))
          .join(", ")}`,
    );
  expect(serious, `axe on ${what}`).toEqual([]);
}

export async function screenshot(
  page: Page,
  name: string,
  mask: Locator[] = [],
): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: join(SCREENSHOTS, `${name}.png`),
    mask,
    animations: "disabled",
  });
}

// The page fits the viewport's width (nothing needs horizontal scrolling).
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const overflow = await page.evaluate(
    () =>
      document.documentElement.scrollWidth -
      document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
}

// Presses Tab until `target` has focus (at most `limit` times).
export async function tabTo(
  page: Page,
  target: Locator,
  limit = 60,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((e) => e === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  await expect(target).toBeFocused();
}
