import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ApiKeyInfo, CommandResult } from "./api";
import { createRequest, openCreateWindow } from "./create_window";
import { openDeleteWindow } from "./delete_window";
import type { WindowContext } from "./dialog";
import { ApiError } from "./errors";
import { openRegenerateWindow } from "./regenerate_window";
import { openRenameWindow } from "./rename_window";
import type { ClipboardWriter } from "./secret_panel";
import {
  ACME_VPCS,
  CATALOG,
  FakeApi,
  applied,
  makeKey,
  receiptOf,
  settle,
  silent,
} from "./testing/fake_api";
import {
  buttonByName,
  byLabel,
  byRole,
  choose,
  click,
  inputByRole,
  press,
  queryByRole,
  selectByLabel,
  submit,
  type,
} from "./testing/queries";

let opener: HTMLButtonElement;
let background: HTMLDivElement;
let context: WindowContext;

beforeEach(() => {
  document.body.replaceChildren();
  background = document.createElement("div");
  opener = document.createElement("button");
  opener.textContent = "Opener";
  background.append(opener);
  document.body.append(background);
  opener.focus();
  context = { background, returnFocus: () => opener };
  localStorage.clear();
  sessionStorage.clear();
});

afterEach(() => {
  vi.useRealTimers();
});

function storageText(storage: Storage): string {
  let text = "";
  for (let i = 0; i < storage.length; i++) {
    const name = storage.key(i) ?? "";
    text += `${name}=${storage.getItem(name) ?? ""};`;
  }
  return text;
}

function expectNoTraceOf(secret: string): void {
  expect(document.documentElement.outerHTML).not.toContain(secret);
  for (const input of document.querySelectorAll("input")) {
    expect(input.value).not.toContain(secret);
  }
  expect(storageText(localStorage)).not.toContain(secret);
  expect(storageText(sessionStorage)).not.toContain(secret);
  expect(document.cookie).not.toContain(secret);
}

const copied: string[] = [];
const clipboard: ClipboardWriter = {
  writeText: (text) => {
    copied.push(text);
    return Promise.resolve();
  },
};

function openCreate(api: FakeApi, vpcs = ACME_VPCS, now?: () => Date) {
  const created: string[] = [];
  const modal = openCreateWindow({
    api,
    catalog: CATALOG,
    vpcs,
    context,
    clipboard,
    onCreated: (key) => created.push(key.name),
    ...(now ? { now } : {}),
  });
  return { modal, created };
}

// A FakeApi holding one key named `name`, and options for any window on that key: each
// window's callback (onRegenerated, onDeleted, onRenamed) adds the key it reports to `reported`.
function windowOnKey(name: string) {
  const key = makeKey({ name });
  const api = new FakeApi();
  api.keys.push(key);
  const reported: ApiKeyInfo[] = [];
  const report = (k: ApiKeyInfo): void => {
    reported.push(k);
  };
  const options = {
    api,
    key,
    context,
    clipboard,
    onRegenerated: report,
    onDeleted: report,
    onRenamed: report,
  };
  return { api, key, reported, options };
}

// Types `name` in the confirmation field and sends the window with `buttonName`.
async function confirmAs(name: string, buttonName: string): Promise<void> {
  type(byLabel("Type the key name to confirm"), name);
  submit(byRole("button", buttonName));
  await settle();
}

// A FakeApi whose first createKey fails with `error`.
function apiFailingCreate(error: ApiError): FakeApi {
  const api = new FakeApi();
  api.failNext("createKey", error);
  return api;
}

// Step 1 with all models: names the key and continues to step 2.
function continueWithName(name: string): void {
  type(byLabel("Access Key Name"), name);
  submit(byRole("button", "Continue"));
}

async function addKey(): Promise<void> {
  submit(byRole("button", "Add model access key"));
  await settle();
}

describe("the create window", () => {
  it("is a labelled modal dialog that starts on the name field", () => {
    openCreate(new FakeApi());
    const dialog = byRole("dialog", "Create model access key");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(byLabel("Access Key Name"));
    expect(background.hasAttribute("inert")).toBe(true);
  });

  it("Continue is disabled until the key has a name and models", () => {
    openCreate(new FakeApi());
    const continueButton = buttonByName("Continue");
    expect(continueButton.disabled).toBe(true);
    type(byLabel("Access Key Name"), "svc");
    expect(continueButton.disabled).toBe(false);
    choose(byRole("radio", "Select models"));
    expect(continueButton.disabled).toBe(true);
    choose(byRole("checkbox", "GPT-4o (OpenAI)"));
    expect(continueButton.disabled).toBe(false);
  });

  it("offers the batch toggle only with All models", () => {
    openCreate(new FakeApi());
    const toggle = inputByRole(
      "switch",
      "Enable batch inferencing for OpenAI and Anthropic text models",
    );
    choose(toggle);
    expect(toggle.checked).toBe(true);
    choose(byRole("radio", "Select models"));
    expect(
      queryByRole(
        "switch",
        "Enable batch inferencing for OpenAI and Anthropic text models",
      ),
    ).toBeNull();
    expect(toggle.checked).toBe(false);
  });

  it("sends batch with all models, and never with a selection", async () => {
    const api = new FakeApi();
    openCreate(api);
    type(byLabel("Access Key Name"), "  batchy  ");
    choose(byRole("switch", /Enable batch inferencing/));
    submit(byRole("button", "Continue"));
    await addKey();
    expect(api.callsOf("createKey")[0]?.[0]).toEqual({
      name: "batchy",
      all_models: true,
      batch_inference: true,
      vpc_uuid: null,
    });

    document.body.replaceChildren(background);
    const api2 = new FakeApi();
    openCreate(api2);
    type(byLabel("Access Key Name"), "picky");
    choose(byRole("switch", /Enable batch inferencing/));
    choose(byRole("radio", "Select models"));
    type(byLabel("Search models"), "claude");
    expect(queryByRole("checkbox", "GPT-4o (OpenAI)")).toBeNull();
    choose(byRole("checkbox", "Claude 3.5 Haiku (Anthropic)"));
    submit(byRole("button", "Continue"));
    choose(byRole("radio", "Custom team VPCs"));
    await addKey();
    expect(api2.callsOf("createKey")[0]?.[0]).toEqual({
      name: "picky",
      all_models: false,
      models: ["anthropic-claude-3.5-haiku"],
      vpc_uuid: ACME_VPCS[0]?.id,
    });
  });

  it("offers only the team's VPCs, by name, with the DNS resolver warning", () => {
    openCreate(new FakeApi());
    continueWithName("svc");
    expect(document.activeElement).toBe(byRole("radio", "No VPC network"));
    choose(byRole("radio", "Custom team VPCs"));
    const select = selectByLabel("Team VPC");
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "acme-prod-nyc3 (nyc3)",
      "acme-staging-sfo3 (sfo3)",
    ]);
    expect(document.body.textContent).toContain(
      "Resources in the VPC must enable the VPC-local DNS resolver",
    );
  });

  it("a team without VPCs cannot pick Custom team VPCs", () => {
    openCreate(new FakeApi(), []);
    continueWithName("svc");
    expect(inputByRole("radio", "Custom team VPCs").disabled).toBe(true);
    expect(document.body.textContent).toContain(
      "Your team has no VPC networks.",
    );
  });

  it("shows the secret once, copies it, and drops it from the page when the window closes", async () => {
    const api = new FakeApi();
    const { created } = openCreate(api);
    continueWithName("svc");
    await addKey();
    const field = byLabel("Secret key");
    const secret = field.value;
    expect(secret).toMatch(/^sk-do-v1-/);
    expect(created).toEqual(["svc"]);
    expect(document.body.textContent).toContain(
      "This secret is visible only once.",
    );
    expect(document.activeElement).toBe(byRole("button", "Copy secret"));
    click(byRole("button", "Copy secret"));
    await settle();
    expect(copied).toContain(secret);
    // The secret is a property of the field while it is open, never markup.
    expect(document.documentElement.outerHTML).not.toContain(secret);
    click(byRole("button", "Done"));
    expect(queryByRole("dialog")).toBeNull();
    expectNoTraceOf(secret);
    expect(field.value).toBe("");
    expect(document.activeElement).toBe(opener);
  });

  it("an error is shown next to the Add button and leaves the window as it was", async () => {
    const api = apiFailingCreate(
      new ApiError(
        503,
        "service_unavailable",
        "the event log is unavailable",
        1,
      ),
    );
    const { created } = openCreate(api);
    continueWithName("svc");
    await addKey();
    expect(byRole("alert").textContent).toBe(
      "Creating the key failed: the key service is temporarily unavailable (the event log is unavailable). Nothing was changed. Try again in 1 second.",
    );
    expect(created).toEqual([]);
    expect(queryByRole("button", "Copy secret")).toBeNull();
    expect(buttonByName("Add model access key").disabled).toBe(false);
  });

  it("a retry after a 503 sends the same Idempotency-Key", async () => {
    const api = apiFailingCreate(
      new ApiError(503, "service_unavailable", "", null),
    );
    openCreate(api);
    continueWithName("svc");
    await addKey();
    await addKey();
    const [first, second] = api.callsOf("createKey");
    expect(first?.[1]).toEqual(second?.[1]);
    expect(byLabel("Secret key").value).toMatch(/^sk-do-v1-/);
  });

  it("a 429 disables Add for the wait the server asked for", async () => {
    vi.useFakeTimers();
    const api = apiFailingCreate(new ApiError(429, "too_many_requests", "", 2));
    openCreate(api);
    continueWithName("svc");
    await addKey();
    expect(byRole("alert").textContent).toContain(
      "Wait 2 seconds and try again.",
    );
    const add = buttonByName("Add model access key");
    expect(add.disabled).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(add.disabled).toBe(false);
  });

  it("Escape closes the window and focus returns to the button that opened it", () => {
    openCreate(new FakeApi());
    press(byLabel("Access Key Name"), "Escape");
    expect(queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
    expect(background.hasAttribute("inert")).toBe(false);
  });

  it("Escape closes the window even when focus fell out of it", () => {
    openCreate(new FakeApi());
    (document.activeElement as HTMLElement | null)?.blur();
    press(document.body, "Escape");
    expect(queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it("after a failed request, focus is back on the button that sent it", async () => {
    const api = apiFailingCreate(
      new ApiError(503, "service_unavailable", "", null),
    );
    openCreate(api);
    continueWithName("svc");
    const add = buttonByName("Add model access key");
    add.focus();
    submit(add);
    add.blur();
    await settle();
    expect(document.activeElement).toBe(add);
  });

  it("Tab and Shift+Tab stay inside the window", () => {
    openCreate(new FakeApi());
    type(byLabel("Access Key Name"), "svc");
    const continueButton = byRole("button", "Continue");
    continueButton.focus();
    press(continueButton, "Tab");
    expect(document.activeElement).toBe(byRole("button", "Close"));
    press(byRole("button", "Close"), "Tab", true);
    expect(document.activeElement).toBe(continueButton);
  });
});

const CREATED_AT = new Date("2026-03-05T12:00:00Z");

describe("the create body", () => {
  const base = {
    name: " svc ",
    allModels: true,
    models: [],
    batch: false,
    vpcUuid: null,
  };

  it("a key that never expires is sent without expires_at", () => {
    expect(createRequest({ ...base, expiresAt: null })).toEqual({
      name: "svc",
      all_models: true,
      batch_inference: false,
      vpc_uuid: null,
    });
  });

  it("a key that expires is sent with expires_at, with all models or a selection", () => {
    const expiresAt = "2026-04-04T12:00:00.000Z";
    expect(createRequest({ ...base, expiresAt })).toEqual({
      name: "svc",
      all_models: true,
      batch_inference: false,
      vpc_uuid: null,
      expires_at: expiresAt,
    });
    expect(
      createRequest({
        ...base,
        allModels: false,
        models: ["openai-gpt-4o"],
        vpcUuid: ACME_VPCS[0]?.id ?? null,
        expiresAt,
      }),
    ).toEqual({
      name: "svc",
      all_models: false,
      models: ["openai-gpt-4o"],
      vpc_uuid: ACME_VPCS[0]?.id,
      expires_at: expiresAt,
    });
  });
});

describe("the create window's expiry", () => {
  it("offers Never, 7 days, 30 days, 90 days and 1 year on step 2, Never chosen", () => {
    openCreate(new FakeApi());
    continueWithName("svc");
    const select = selectByLabel("Expires");
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "Never",
      "7 days",
      "30 days",
      "90 days",
      "1 year",
    ]);
    expect(select.selectedOptions[0]?.textContent).toBe("Never");
    expect(
      document.getElementById(select.getAttribute("aria-describedby") ?? "")
        ?.textContent,
    ).toContain("cannot be changed later");
  });

  it("Never sends no expires_at", async () => {
    const api = new FakeApi();
    openCreate(api, ACME_VPCS, () => CREATED_AT);
    continueWithName("svc");
    await addKey();
    expect(api.callsOf("createKey")[0]?.[0]).not.toHaveProperty("expires_at");
  });

  it("30 days sends expires_at 30 days from now, and 1 year 365 days", async () => {
    for (const [label, expected] of [
      ["30 days", "2026-04-04T12:00:00.000Z"],
      ["1 year", "2027-03-05T12:00:00.000Z"],
    ] as const) {
      document.body.replaceChildren(background);
      const api = new FakeApi();
      openCreate(api, ACME_VPCS, () => CREATED_AT);
      continueWithName("svc");
      const select = selectByLabel("Expires");
      select.value =
        [...select.options].find((o) => o.textContent === label)?.value ?? "";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      await addKey();
      expect(api.callsOf("createKey")[0]?.[0]).toEqual({
        name: "svc",
        all_models: true,
        batch_inference: false,
        vpc_uuid: null,
        expires_at: expected,
      });
    }
  });

  it("a retry after a 503 sends the same expires_at with the same Idempotency-Key", async () => {
    const api = apiFailingCreate(
      new ApiError(503, "service_unavailable", "", null),
    );
    // Every reading of the clock is a minute later than the one before.
    let minutes = 0;
    openCreate(api, ACME_VPCS, () => {
      minutes += 1;
      return new Date(CREATED_AT.getTime() + minutes * 60_000);
    });
    continueWithName("svc");
    selectByLabel("Expires").value = "7";
    await addKey();
    await addKey();
    const [first, second] = api.callsOf("createKey");
    expect(first?.[0]).toHaveProperty("expires_at", "2026-03-12T12:01:00.000Z");
    expect(second?.[0]).toEqual(first?.[0]);
    expect(second?.[1]).toEqual(first?.[1]);
    expect(byLabel("Secret key").value).toMatch(/^sk-do-v1-/);
  });

  it("a lifetime the server refuses is said in the window, which stays as it was", async () => {
    const api = apiFailingCreate(
      new ApiError(
        400,
        "invalid_argument",
        "expires_at is further ahead than this platform allows (at most 90 days, 7776000 s)",
        null,
      ),
    );
    const { created } = openCreate(api, ACME_VPCS, () => CREATED_AT);
    continueWithName("svc");
    selectByLabel("Expires").value = "365";
    await addKey();
    expect(byRole("alert").textContent).toBe(
      "Creating the key failed: the server refused the input (expires_at is further ahead than this platform allows (at most 90 days, 7776000 s)).",
    );
    expect(created).toEqual([]);
    expect(selectByLabel("Expires").value).toBe("365");
    expect(buttonByName("Add model access key").disabled).toBe(false);
    // A shorter lifetime is a new request, with a new Idempotency-Key.
    selectByLabel("Expires").value = "90";
    await addKey();
    const [refused, accepted] = api.callsOf("createKey");
    expect(accepted?.[0]).toHaveProperty(
      "expires_at",
      "2026-06-03T12:00:00.000Z",
    );
    expect(accepted?.[1]).not.toEqual(refused?.[1]);
    expect(created).toEqual(["svc"]);
  });
});

describe("the regenerate window", () => {
  it("Regenerate access key is enabled only when the typed name matches exactly", () => {
    openRegenerateWindow(windowOnKey("Prod Key").options);
    byRole("dialog", "Regenerate model access key");
    expect(document.body.textContent).toContain("There is no grace period.");
    const button = buttonByName("Regenerate access key");
    const field = byLabel("Type the key name to confirm");
    for (const attempt of ["", "prod key", "Prod Key ", "Prod"]) {
      type(field, attempt);
      expect(button.disabled).toBe(true);
    }
    type(field, "Prod Key");
    expect(button.disabled).toBe(false);
  });

  it("shows the new secret once and drops it on close", async () => {
    const { api, key, reported, options } = windowOnKey("prod");
    openRegenerateWindow(options);
    await confirmAs("prod", "Regenerate access key");
    const secret = byLabel("Secret key").value;
    expect(secret).toMatch(/^sk-do-v1-/);
    expect(reported.map((k) => k.uuid)).toEqual([key.uuid]);
    expect(api.callsOf("regenerateKey")[0]?.slice(0, 2)).toEqual([
      key.uuid,
      "prod",
    ]);
    press(byRole("button", "Done"), "Escape");
    expectNoTraceOf(secret);
    expect(document.activeElement).toBe(opener);
  });

  it("a 409 says the name no longer matches, next to the name field", async () => {
    const { api, key, reported, options } = windowOnKey("prod");
    api.keys = [{ ...key, name: "renamed meanwhile" }];
    openRegenerateWindow(options);
    await confirmAs("prod", "Regenerate access key");
    const field = byLabel("Type the key name to confirm");
    const alert = byRole("alert");
    expect(alert.textContent).toMatch(
      /the name you typed is no longer the key's name/,
    );
    expect(field.getAttribute("aria-describedby")).toContain(alert.id);
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(queryByRole("button", "Copy secret")).toBeNull();
    expect(reported).toEqual([]);
  });
});

// The receipt line of the open window.
function receiptLine(): string {
  return byRole("status", /validators/).textContent;
}

const oneOfTwo = receiptOf([
  applied("replica-1", 9),
  silent("replica-2", 4200),
]);
const twoOfTwo = receiptOf([applied("replica-1", 9), applied("replica-2", 31)]);

describe("the revocation receipt in the regenerate window", () => {
  it("updates live under the new secret until every validator denies the old one", async () => {
    vi.useFakeTimers();
    const { api, options } = windowOnKey("prod");
    api.commandReceipt = oneOfTwo;
    api.revocationAnswers = [oneOfTwo, twoOfTwo];
    openRegenerateWindow(options);
    await confirmAs("prod", "Regenerate access key");
    expect(byLabel("Secret key").value).toMatch(/^sk-do-v1-/);
    expect(receiptLine()).toContain("Old secret denied on 1 of 2 validators");
    expect(document.body.textContent).toContain(
      "replica-2: silent, last heard 4.2 s ago",
    );
    expect(api.callsOf("revocation")[0]?.slice(0, 2)).toEqual([
      oneOfTwo.href,
      2,
    ]);
    await vi.advanceTimersByTimeAsync(500);
    await vi.advanceTimersByTimeAsync(500);
    expect(receiptLine()).toBe(
      "✓ Old secret denied on 2 of 2 validators in 31 ms",
    );
    expect(document.body.textContent).not.toContain("replica-2: silent");
    // The secret keeps the focus; the receipt is announced, not focused.
    expect(document.activeElement).toBe(byRole("button", "Copy secret"));
  });

  it("closing the window stops it: no request follows, no timer is left", async () => {
    vi.useFakeTimers();
    const { api, options } = windowOnKey("prod");
    api.commandReceipt = oneOfTwo;
    api.revocationAnswers = [oneOfTwo];
    openRegenerateWindow(options);
    await confirmAs("prod", "Regenerate access key");
    await vi.advanceTimersByTimeAsync(1_000);
    const asked = api.callsOf("revocation");
    expect(asked.length).toBeGreaterThan(1);
    click(byRole("button", "Done"));
    expect(queryByRole("dialog")).toBeNull();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(api.callsOf("revocation")).toHaveLength(asked.length);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("after an idempotent replay it still follows the original command's receipt", async () => {
    const { api, options } = windowOnKey("prod");
    openRegenerateWindow({
      ...options,
      api: {
        regenerateKey: async (...args) => ({
          ...(await api.regenerateKey(...args)),
          secret: null,
          replayed: true,
          revocation: oneOfTwo,
        }),
        revocation: (...args) => api.revocation(...args),
      },
    });
    api.revocationAnswers = [twoOfTwo];
    await confirmAs("prod", "Regenerate access key");
    expect(receiptLine()).toBe(
      "✓ Old secret denied on 2 of 2 validators in 31 ms",
    );
    click(byRole("button", "Done"));
  });
});

describe("the revocation receipt in the delete window", () => {
  it("follows the deleted key's receipt until done, and stops at Done", async () => {
    vi.useFakeTimers();
    const { api, options } = windowOnKey("old");
    api.commandReceipt = receiptOf([]);
    api.revocationAnswers = [oneOfTwo, twoOfTwo];
    openDeleteWindow(options);
    await confirmAs("old", "Delete access key");
    expect(api.keys).toEqual([]);
    expect(receiptLine()).toContain("Old secret denied on 1 of 2 validators");
    await vi.advanceTimersByTimeAsync(500);
    expect(receiptLine()).toBe(
      "✓ Old secret denied on 2 of 2 validators in 31 ms",
    );
    expect(api.callsOf("revocation").map((c) => c[0])).toEqual([
      "/v2/gen-ai/revocations/0/4",
      "/v2/gen-ai/revocations/0/4",
    ]);
    click(byRole("button", "Done"));
    expect(queryByRole("dialog")).toBeNull();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(api.callsOf("revocation")).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("Escape during polling closes the window and stops asking", async () => {
    vi.useFakeTimers();
    const { api, options } = windowOnKey("old");
    api.commandReceipt = oneOfTwo;
    api.revocationAnswers = [oneOfTwo];
    openDeleteWindow(options);
    await confirmAs("old", "Delete access key");
    await vi.advanceTimersByTimeAsync(2_000);
    press(document.body, "Escape");
    expect(queryByRole("dialog")).toBeNull();
    const asked = api.callsOf("revocation").length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(api.callsOf("revocation")).toHaveLength(asked);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("the delete window", () => {
  it("Delete access key is enabled only on the exact name, and deletes on click", async () => {
    const { api, key, reported, options } = windowOnKey("old");
    openDeleteWindow(options);
    byRole("dialog", "Delete model access key");
    expect(buttonByName("Delete access key").disabled).toBe(true);
    await confirmAs("old", "Delete access key");
    expect(reported.map((k) => k.uuid)).toEqual([key.uuid]);
    expect(api.keys).toEqual([]);
    const dialog = byRole("dialog", "Delete model access key");
    expect(dialog.textContent).toContain(
      "The key old was deleted and cannot be restored.",
    );
    expect(byRole("status").textContent).toBe(
      "✓ Old secret denied on 1 of 1 validators in 12 ms",
    );
    expect(document.activeElement).toBe(byRole("button", "Done"));
    click(byRole("button", "Done"));
    expect(queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it("a 403 is shown in words and the key stays", async () => {
    const { api, reported, options } = windowOnKey("old");
    api.failNext(
      "deleteKey",
      new ApiError(403, "forbidden", "not your key", null),
    );
    openDeleteWindow(options);
    await confirmAs("old", "Delete access key");
    expect(byRole("alert").textContent).toBe(
      "Deleting the key was refused: you are not allowed to do this (not your key).",
    );
    expect(api.keys).toHaveLength(1);
    expect(reported).toEqual([]);
    expect(byRole("dialog", "Delete model access key")).toBeTruthy();
  });

  it("Cancel and closing wait for the answer", async () => {
    const { api, options } = windowOnKey("old");
    let answer: () => void = () => undefined;
    openDeleteWindow({
      ...options,
      api: {
        deleteKey: (...args) =>
          new Promise<CommandResult>((resolve) => {
            answer = () => {
              void api.deleteKey(...args).then(resolve);
            };
          }),
        revocation: (...args) => api.revocation(...args),
      },
    });
    type(byLabel("Type the key name to confirm"), "old");
    submit(byRole("button", "Delete access key"));
    await settle();
    expect(buttonByName("Cancel").disabled).toBe(true);
    expect(buttonByName("Close").disabled).toBe(true);
    press(document.body, "Escape");
    expect(byRole("dialog", "Delete model access key")).toBeTruthy();
    answer();
    await settle();
    expect(buttonByName("Close").disabled).toBe(false);
    press(document.body, "Escape");
    expect(queryByRole("dialog")).toBeNull();
    expect(api.keys).toEqual([]);
  });
});

describe("the rename window", () => {
  it("renames with Update; unchanged or empty names cannot be sent", async () => {
    const { reported, options } = windowOnKey("before");
    openRenameWindow(options);
    byRole("dialog", "Rename model access key");
    const field = byLabel("Key name");
    const update = buttonByName("Update");
    expect(field.value).toBe("before");
    expect(update.disabled).toBe(true);
    type(field, "   ");
    expect(update.disabled).toBe(true);
    type(field, "after");
    submit(update);
    await settle();
    expect(reported.map((k) => k.name)).toEqual(["after"]);
    expect(queryByRole("dialog")).toBeNull();
  });

  it("a broken name rule is said under the field, and Cancel is back after a failure", async () => {
    const { api, options } = windowOnKey("before");
    api.failNext(
      "renameKey",
      new ApiError(400, "bad_request", "name is too long", null),
    );
    openRenameWindow(options);
    const field = byLabel("Key name");
    type(field, "a".repeat(129));
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(buttonByName("Update").disabled).toBe(true);
    type(field, "after");
    expect(field.hasAttribute("aria-invalid")).toBe(false);
    submit(byRole("button", "Update"));
    await settle();
    expect(byRole("alert").textContent).toContain("name is too long");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(buttonByName("Cancel").disabled).toBe(false);
  });
});
