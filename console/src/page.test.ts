import { beforeEach, describe, expect, it } from "vitest";
import { ConsoleApp } from "./app";
import { KeysPage } from "./page";
import type { SignedInUser } from "./api";
import { ApiError } from "./errors";
import {
  ACME_VPCS,
  FakeApi,
  MIA,
  OLGA,
  OMAR,
  makeKey,
  settle,
} from "./testing/fake_api";
import {
  allByRole,
  buttonByName,
  byLabel,
  byRole,
  click,
  press,
  queryByRole,
  selectByLabel,
  submit,
  type,
} from "./testing/queries";

let root: HTMLDivElement;

beforeEach(() => {
  document.body.replaceChildren();
  root = document.createElement("div");
  document.body.append(root);
});

async function showPage(
  api: FakeApi,
  user: SignedInUser,
  perPage = 20,
  now?: () => Date,
): Promise<KeysPage> {
  api.signedIn = user;
  const page = new KeysPage({
    root,
    api,
    user,
    perPage,
    clipboard: null,
    ...(now ? { now } : {}),
    onSessionEnded: () => undefined,
    onSignedOut: () => undefined,
  });
  page.start();
  await settle();
  return page;
}

// The cell of the row named `keyName` under the column `header`.
function cellOf(keyName: string, header: string): HTMLElement {
  const headers = [...byRole("table").querySelectorAll("thead th")].map((th) =>
    th.textContent.trim(),
  );
  const column = headers.indexOf(header);
  const row = allByRole("row").find(
    (r) => r.querySelector("th")?.firstChild?.textContent === keyName,
  );
  const cell = row?.children[column];
  if (column < 0 || !(cell instanceof HTMLElement)) {
    throw new Error(`no ${header} cell for ${keyName}`);
  }
  return cell;
}

function rowNames(): string[] {
  return allByRole("row")
    .slice(1)
    .map((r) => r.querySelector("th")?.firstChild?.textContent ?? "");
}

describe("tabs", () => {
  it("owner sees the Team's keys tab", async () => {
    await showPage(new FakeApi(), OLGA);
    expect(allByRole("tab").map((t) => t.textContent)).toEqual([
      "My keys",
      "Legacy keys",
      "Team's keys",
    ]);
  });

  it("member sees no Team's keys tab at all", async () => {
    const api = new FakeApi();
    await showPage(api, MIA);
    expect(allByRole("tab").map((t) => t.textContent)).toEqual([
      "My keys",
      "Legacy keys",
    ]);
    expect(api.callsOf("listKeys").map((c) => c[0])).not.toContain("team");
  });

  it("Team's keys shows keys of other members with the creator's name", async () => {
    const api = new FakeApi();
    api.keys.push(
      makeKey({
        name: "mias-key",
        created_by: MIA.user_id,
        creator_name: MIA.name,
      }),
      makeKey({ name: "olgas-key", created_by: OLGA.user_id }),
    );
    await showPage(api, OLGA);
    click(byRole("tab", "Team's keys"));
    await settle();
    expect(byRole("tab", "Team's keys").getAttribute("aria-selected")).toBe(
      "true",
    );
    expect(rowNames()).toEqual(["mias-key"]);
    expect(
      [...byRole("table").querySelectorAll("thead th")].map(
        (th) => th.textContent,
      ),
    ).toContain("Creator");
    expect(allByRole("row")[1]?.textContent).toContain("Mia Member");
  });

  it("arrow keys move between tabs and select them", async () => {
    await showPage(new FakeApi(), OLGA);
    const mine = byRole("tab", "My keys");
    mine.focus();
    press(mine, "ArrowRight");
    expect(document.activeElement).toBe(byRole("tab", "Legacy keys"));
    expect(byRole("tab", "Legacy keys").getAttribute("aria-selected")).toBe(
      "true",
    );
    press(byRole("tab", "Legacy keys"), "End");
    expect(document.activeElement).toBe(byRole("tab", "Team's keys"));
  });
});

describe("the keys table", () => {
  it("lists the newest key first, with models, VPC name, date and hint", async () => {
    const api = new FakeApi();
    api.keys.push(
      makeKey({ name: "older", created_at: "2026-01-01T00:00:00Z" }),
      makeKey({
        name: "newer",
        created_at: "2026-02-01T00:00:00Z",
        vpc_uuid: ACME_VPCS[1]?.id ?? null,
        batch_inference: true,
        secret_hint: "wxyz",
        models: [
          { id: "openai-gpt-4o", name: "GPT-4o", owned_by: "openai" },
          {
            id: "batch-inference",
            name: "Batch Inference",
            owned_by: "platform",
          },
        ],
      }),
    );
    await showPage(api, OLGA);
    expect(rowNames()).toEqual(["newer", "older"]);
    const newest = allByRole("row")[1];
    expect(newest?.textContent).toContain("acme-staging-sfo3");
    expect(newest?.textContent).toContain("…wxyz");
    expect(newest?.textContent).toContain("Feb 1, 2026");
    expect(allByRole("row")[2]?.textContent).toContain("No VPC network");
    const models = byRole("button", "All models Batch Inference");
    const tooltip = document.getElementById(
      models.getAttribute("aria-describedby") ?? "",
    );
    expect(tooltip?.getAttribute("role")).toBe("tooltip");
    expect(
      [...(tooltip?.querySelectorAll("li") ?? [])].map((li) => li.textContent),
    ).toEqual(["GPT-4o", "Batch Inference"]);
  });

  it("Last used says Never, or how long ago with the exact time in UTC", async () => {
    const now = new Date("2026-03-05T12:00:30Z");
    const api = new FakeApi();
    api.keys.push(
      makeKey({ name: "unused" }),
      makeKey({ name: "busy", last_used_at: "2026-03-05T11:55:00Z" }),
      makeKey({ name: "stale", last_used_at: "2026-02-21T09:10:00Z" }),
    );
    await showPage(api, OLGA, 20, () => now);
    expect(cellOf("unused", "Last used").textContent).toBe("Never");
    const busy = cellOf("busy", "Last used");
    expect(busy.querySelector("time")?.textContent).toBe("5 min ago");
    expect(busy.querySelector("time")?.getAttribute("title")).toBe(
      "2026-03-05 11:55 UTC",
    );
    expect(busy.querySelector("time")?.getAttribute("datetime")).toBe(
      "2026-03-05T11:55:00Z",
    );
    // Screen readers hear the exact time too (a title is not read reliably).
    expect(busy.textContent).toBe("5 min ago (2026-03-05 11:55 UTC)");
    expect(cellOf("stale", "Last used").textContent).toContain("12 days ago");
  });

  it("shows the expiry: nothing when never, the date, a badge within 30 days, Expired", async () => {
    const now = new Date("2026-03-05T12:00:00Z");
    const api = new FakeApi();
    api.keys.push(
      makeKey({ name: "forever" }),
      makeKey({ name: "far", expires_at: "2026-12-31T00:00:00Z" }),
      makeKey({ name: "month", expires_at: "2026-04-04T12:00:00Z" }),
      makeKey({ name: "hours", expires_at: "2026-03-05T18:00:00Z" }),
      makeKey({
        name: "gone",
        expires_at: "2026-03-01T00:00:00Z",
        expired: true,
      }),
      makeKey({ name: "just-gone", expires_at: "2026-03-05T11:59:00Z" }),
    );
    await showPage(api, OLGA, 20, () => now);
    const headers = [...byRole("table").querySelectorAll("thead th")].map(
      (th) => th.textContent,
    );
    expect(headers.slice(3, 6)).toEqual(["Created", "Last used", "Expires"]);

    const forever = cellOf("forever", "Expires");
    expect(forever.querySelector("time")).toBeNull();
    expect(forever.textContent).toBe("Does not expire");
    // Only for screen readers: nothing is shown.
    expect(forever.firstElementChild?.className).toBe("sr-only");

    expect(cellOf("far", "Expires").textContent).toBe("Dec 31, 2026");
    expect(
      cellOf("far", "Expires").querySelector("time")?.getAttribute("title"),
    ).toBe("2026-12-31 00:00 UTC");
    expect(cellOf("month", "Expires").textContent).toBe(
      "Apr 4, 2026 Expires in 30 days",
    );
    expect(cellOf("hours", "Expires").textContent).toContain(
      "Expires in less than a day",
    );
    expect(cellOf("gone", "Expires").textContent).toBe("Mar 1, 2026 Expired");
    // Expired by the clock even before the server's next answer says so.
    expect(cellOf("just-gone", "Expires").textContent).toContain("Expired");
  });

  it("a key created to expire in 30 days shows Expires in 30 days and Never used", async () => {
    const now = new Date("2026-03-05T12:00:00Z");
    const api = new FakeApi();
    await showPage(api, OLGA, 20, () => now);
    click(byRole("button", "Create model access key"));
    await settle();
    type(byLabel("Access Key Name"), "monthly");
    submit(byRole("button", "Continue"));
    const select = selectByLabel("Expires");
    select.value = "30";
    submit(byRole("button", "Add model access key"));
    await settle();
    click(byRole("button", "Done"));
    await settle();
    expect(cellOf("monthly", "Expires").textContent).toContain(
      "Expires in 30 days",
    );
    expect(cellOf("monthly", "Last used").textContent).toBe("Never");
  });

  it("says so when a view has no keys", async () => {
    await showPage(new FakeApi(), MIA);
    expect(root.textContent).toContain(
      "You have not created any model access keys yet.",
    );
    click(byRole("tab", "Legacy keys"));
    await settle();
    expect(root.textContent).toContain("Your team has no legacy keys.");
  });

  it("pages through a long list", async () => {
    const api = new FakeApi();
    for (let i = 0; i < 5; i++)
      api.keys.push(makeKey({ name: `k${String(i)}` }));
    await showPage(api, OLGA, 2);
    expect(rowNames()).toEqual(["k4", "k3"]);
    expect(root.textContent).toContain("Page 1 of 3");
    expect(buttonByName("Previous page").disabled).toBe(true);
    click(byRole("button", "Next page"));
    await settle();
    expect(rowNames()).toEqual(["k2", "k1"]);
    buttonByName("Next page").focus();
    click(byRole("button", "Next page"));
    await settle();
    expect(rowNames()).toEqual(["k0"]);
    expect(document.activeElement).toBe(buttonByName("Previous page"));
    expect(buttonByName("Next page").disabled).toBe(true);
    expect(api.callsOf("listKeys").at(-1)).toEqual(["mine", 3, 2]);
  });

  it("shows a list error in words with a way to try again", async () => {
    const api = new FakeApi();
    api.failNext("listKeys", new ApiError(503, "service_unavailable", "", 1));
    await showPage(api, OLGA);
    expect(byRole("alert").textContent).toBe(
      "Loading the keys failed: the key service is temporarily unavailable. Try again in 1 second.",
    );
    click(byRole("button", "Try again"));
    await settle();
    expect(queryByRole("alert")).toBeNull();
  });
});

describe("row actions", () => {
  // The Legacy keys tab as `user` sees it, with a legacy key of Mia's and one of Omar's.
  async function showMiasAndOmarsLegacyKeys(user: SignedInUser): Promise<void> {
    const api = new FakeApi();
    api.keys.push(
      makeKey({ name: "mias-legacy", legacy: true, created_by: MIA.user_id }),
      makeKey({ name: "omars-legacy", legacy: true, created_by: OMAR.user_id }),
    );
    await showPage(api, user);
    click(byRole("tab", "Legacy keys"));
    await settle();
  }

  it("a member's menu is offered only on keys they created, legacy ones included", async () => {
    await showMiasAndOmarsLegacyKeys(MIA);
    expect(queryByRole("button", "Actions for mias-legacy")).not.toBeNull();
    expect(queryByRole("button", "Actions for omars-legacy")).toBeNull();
  });

  it("an owner's menu is on every key of the team", async () => {
    await showMiasAndOmarsLegacyKeys(OLGA);
    expect(queryByRole("button", "Actions for mias-legacy")).not.toBeNull();
    expect(queryByRole("button", "Actions for omars-legacy")).not.toBeNull();
  });

  it("the menu offers Rename, Regenerate and Delete, and never a scope change", async () => {
    const api = new FakeApi();
    api.keys.push(makeKey({ name: "legacy", legacy: true }));
    await showPage(api, OLGA);
    click(byRole("tab", "Legacy keys"));
    await settle();
    const trigger = byRole("button", "Actions for legacy");
    press(trigger, "ArrowDown");
    expect(trigger.getAttribute("aria-expanded")).toBe("true");
    expect(allByRole("menuitem").map((m) => m.textContent)).toEqual([
      "Rename",
      "Regenerate",
      "Delete",
    ]);
    expect(document.activeElement).toBe(byRole("menuitem", "Rename"));
    press(byRole("menuitem", "Rename"), "ArrowUp");
    expect(document.activeElement).toBe(byRole("menuitem", "Delete"));
    press(byRole("menuitem", "Delete"), "Escape");
    expect(trigger.getAttribute("aria-expanded")).toBe("false");
    expect(document.activeElement).toBe(trigger);
  });

  it("after a rename, focus returns to the row's menu button", async () => {
    const api = new FakeApi();
    api.keys.push(makeKey({ name: "before" }));
    await showPage(api, OLGA);
    click(byRole("button", "Actions for before"));
    click(byRole("menuitem", "Rename"));
    type(byLabel("Key name"), "after");
    submit(byRole("button", "Update"));
    await settle();
    expect(queryByRole("dialog")).toBeNull();
    expect(rowNames()).toEqual(["after"]);
    expect(document.activeElement).toBe(byRole("button", "Actions for after"));
    expect(root.textContent).toContain("Key before was renamed to after.");
  });

  it("after a delete, the row goes while the receipt is shown, and Done returns focus to the tab", async () => {
    const api = new FakeApi();
    api.keys.push(makeKey({ name: "doomed" }), makeKey({ name: "kept" }));
    await showPage(api, OLGA);
    click(byRole("button", "Actions for doomed"));
    click(byRole("menuitem", "Delete"));
    type(byLabel("Type the key name to confirm"), "doomed");
    submit(byRole("button", "Delete access key"));
    await settle();
    const dialog = byRole("dialog", "Delete model access key");
    expect(dialog.textContent).toContain(
      "Old secret denied on 1 of 1 validators",
    );
    expect(rowNames()).toEqual(["kept"]);
    expect(root.textContent).toContain("Key doomed was deleted.");
    click(byRole("button", "Done"));
    await settle();
    expect(queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(byRole("tab", "My keys"));
  });
});

describe("creating a key", () => {
  it("a key created while the Team's keys tab is open appears under My keys", async () => {
    const api = new FakeApi();
    api.keys.push(makeKey({ name: "omars", created_by: OMAR.user_id }));
    await showPage(api, OLGA);
    click(byRole("tab", "Team's keys"));
    await settle();
    click(byRole("button", "Create model access key"));
    await settle();
    type(byLabel("Access Key Name"), "brand-new");
    submit(byRole("button", "Continue"));
    submit(byRole("button", "Add model access key"));
    await settle();
    expect(byRole("tab", "My keys").getAttribute("aria-selected")).toBe("true");
    click(byRole("button", "Done"));
    await settle();
    expect(rowNames()).toEqual(["brand-new"]);
    expect(document.activeElement).toBe(
      byRole("button", "Create model access key"),
    );
  });
});

describe("signing in", () => {
  it("without a session, offers the development users", async () => {
    const api = new FakeApi(null);
    await new ConsoleApp({ root, api }).start();
    await settle();
    expect(allByRole("button").map((b) => b.textContent)).toEqual([
      "Sign in as Olga Owner (owner)",
      "Sign in as Mia Member (member)",
      "Sign in as Omar Owner (owner)",
    ]);
    click(byRole("button", "Sign in as Mia Member (member)"));
    await settle();
    expect(api.callsOf("devSignIn")).toEqual([["user-mia"]]);
    expect(root.textContent).toContain(
      "Signed in as Mia Member (Member, team-acme)",
    );
  });

  it("without development sign-in, says what the deployment's login must do", async () => {
    const api = new FakeApi(null);
    api.devUsers = null;
    await new ConsoleApp({ root, api }).start();
    await settle();
    expect(root.textContent).toContain("keyledger_session");
    expect(allByRole("button")).toEqual([]);
  });

  it("a session that ends while the page is open leads back to sign-in", async () => {
    const api = new FakeApi(OLGA);
    await new ConsoleApp({ root, api }).start();
    await settle();
    api.signedIn = null;
    click(byRole("tab", "Legacy keys"));
    await settle();
    expect(root.textContent).toContain("Sign in");
    expect(queryByRole("tab")).toBeNull();
  });

  it("Sign out ends the session", async () => {
    const api = new FakeApi(OLGA);
    await new ConsoleApp({ root, api }).start();
    await settle();
    click(byRole("button", "Sign out"));
    await settle();
    expect(api.callsOf("signOut")).toHaveLength(1);
    expect(
      queryByRole("button", "Sign in as Olga Owner (owner)"),
    ).not.toBeNull();
  });
});
