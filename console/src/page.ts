// The "Manage Model Access Keys" screen: the signed-in user, the create button, the view tabs
// the user's role allows, one table per view, and the windows opened from them.

import type {
  ApiKeyInfo,
  CatalogModel,
  ConsoleApi,
  KeyView,
  SignedInUser,
  Vpc,
} from "./api";
import { openCreateWindow } from "./create_window";
import type { Modal, WindowContext } from "./dialog";
import { openDeleteWindow } from "./delete_window";
import { button, el, findByFocusKey } from "./dom";
import { asApiError, describeError } from "./errors";
import { KeysTable } from "./keys_table";
import { clampPage, PER_PAGE } from "./pagination";
import { openRegenerateWindow } from "./regenerate_window";
import { openRenameWindow } from "./rename_window";
import type { KeyAction } from "./row_menu";
import { tabsFor } from "./rules";
import { defaultClipboard, type ClipboardWriter } from "./secret_panel";
import { Tabs } from "./tabs";

export interface KeysPageOptions {
  root: HTMLElement;
  api: ConsoleApi;
  user: SignedInUser;
  // The session ended (a 401): show the sign-in view.
  onSessionEnded: () => void;
  onSignedOut: () => void;
  clipboard?: ClipboardWriter | null;
  perPage?: number;
  // The clock of "Last used", the expiry badges and new keys' expiry (tests pass theirs).
  now?: () => Date;
}

type Loaded<T> = { value: T; error: null } | { value: null; error: string };

const ROLE_NAMES = { owner: "Owner", member: "Member" } as const;

export class KeysPage {
  readonly tabs: Tabs;
  readonly createButton: HTMLButtonElement;
  private readonly tables = new Map<KeyView, KeysTable>();
  private readonly pages = new Map<KeyView, number>();
  private readonly notice: HTMLParagraphElement;
  private readonly signOutError: HTMLParagraphElement;
  private catalog: Promise<Loaded<CatalogModel[]>> | null = null;
  private vpcs: Promise<Loaded<Vpc[]>> | null = null;
  private vpcList: Vpc[] = [];
  private loadSequence = 0;
  private window: Modal | null = null;
  private readonly perPage: number;
  private readonly clipboard: ClipboardWriter | null;

  constructor(private readonly options: KeysPageOptions) {
    const { user } = options;
    this.perPage = options.perPage ?? PER_PAGE;
    this.clipboard =
      options.clipboard !== undefined ? options.clipboard : defaultClipboard();
    const specs = tabsFor(user);
    this.tabs = new Tabs(specs, "mine", (view) => {
      this.showView(view);
    });
    for (const spec of specs) {
      this.tables.set(
        spec.view,
        new KeysTable({
          view: spec.view,
          viewLabel: spec.label,
          user,
          vpcs: () => this.vpcList,
          onAction: (action, key, opener) => {
            this.openKeyWindow(action, key, opener);
          },
          onPage: (page) => {
            this.pages.set(spec.view, page);
            void this.loadKeys();
          },
          onRetry: () => {
            void this.loadKeys();
          },
          onFocusLost: () => {
            this.tabs.tab(this.tabs.selected)?.focus();
          },
          ...(options.now ? { now: options.now } : {}),
        }),
      );
    }
    this.createButton = button(
      "Create model access key",
      () => {
        void this.openCreate();
      },
      { class: "button button-primary", "data-focus-key": "create" },
    );
    this.notice = el("p", {
      class: "notice",
      role: "status",
      "aria-live": "polite",
    });
    this.signOutError = el("p", { class: "error-message", role: "alert" });
    this.signOutError.hidden = true;
    const signOut = button(
      "Sign out",
      () => {
        void this.signOut();
      },
      { class: "button button-quiet" },
    );
    options.root.replaceChildren(
      el(
        "header",
        { class: "topbar" },
        el("span", { class: "brand" }, "keyledger"),
        el(
          "div",
          { class: "account" },
          el(
            "span",
            { class: "account-name" },
            `Signed in as ${user.name} (${ROLE_NAMES[user.role]}, ${user.team_id})`,
          ),
          signOut,
          this.signOutError,
        ),
      ),
      el(
        "main",
        { class: "page" },
        el(
          "div",
          { class: "page-head" },
          el("h1", {}, "Manage Model Access Keys"),
          this.createButton,
        ),
        el(
          "p",
          { class: "lede" },
          "Model access keys authenticate calls to the serverless inference endpoints. Each key can call all models or a selection, and can be limited to one of your team's VPC networks.",
        ),
        this.notice,
        el("div", { class: "tabs-box" }, this.tabs.list, this.tabs.panel),
      ),
    );
    this.tabs.panel.append(this.currentTable().element);
  }

  start(): void {
    this.catalog = settle(this.options.api.listModels(), "load-catalog");
    this.vpcs = settle(this.options.api.listVpcs(), "load-vpcs");
    void this.vpcs.then((loaded) => {
      if (loaded.value) {
        this.vpcList = loaded.value;
        for (const table of this.tables.values()) table.redraw();
      }
    });
    void this.loadKeys();
  }

  private currentTable(): KeysTable {
    const table = this.tables.get(this.tabs.selected);
    if (!table) throw new Error(`no table for ${this.tabs.selected}`);
    return table;
  }

  private showView(view: KeyView): void {
    this.tabs.select(view, false);
    this.tabs.panel.replaceChildren(this.currentTable().element);
    void this.loadKeys();
  }

  // Loads the selected view's current page (later answers win over earlier ones).
  async loadKeys(): Promise<void> {
    const view = this.tabs.selected;
    const table = this.currentTable();
    const sequence = ++this.loadSequence;
    this.tabs.panel.setAttribute("aria-busy", "true");
    table.show({ status: "loading" });
    try {
      let page = this.pages.get(view) ?? 1;
      let result = await this.options.api.listKeys(view, page, this.perPage);
      const clamped = clampPage(page, result.total, this.perPage);
      if (clamped !== page) {
        page = clamped;
        this.pages.set(view, page);
        result = await this.options.api.listKeys(view, page, this.perPage);
      }
      if (sequence !== this.loadSequence) return;
      table.show({ status: "ready", page: result });
      this.tabs.panel.setAttribute("aria-busy", "false");
    } catch (caught) {
      if (sequence !== this.loadSequence) return;
      this.tabs.panel.setAttribute("aria-busy", "false");
      if (asApiError(caught).status === 401) {
        this.options.onSessionEnded();
        return;
      }
      table.show({
        status: "error",
        message: describeError(caught, "load-keys"),
      });
    }
  }

  private windowContext(opener: HTMLElement): WindowContext {
    const focusKey = opener.dataset["focusKey"];
    return {
      background: this.options.root,
      returnFocus: () => {
        if (opener.isConnected) return opener;
        const equivalent =
          focusKey !== undefined
            ? findByFocusKey(this.options.root, focusKey)
            : null;
        return equivalent ?? this.tabs.tab(this.tabs.selected);
      },
    };
  }

  private track(modal: Modal): void {
    this.window = modal;
    modal.onClose(() => {
      this.window = null;
      // Whatever happened in the window, the table shows the keys as they are now.
      void this.loadKeys();
    });
  }

  private hasWindow(): boolean {
    return this.window !== null;
  }

  private say(text: string): void {
    this.notice.textContent = text;
  }

  async openCreate(): Promise<void> {
    if (this.window) return;
    const opener = this.createButton;
    const [catalog, vpcs] = await Promise.all([
      this.catalog ?? settle(this.options.api.listModels(), "load-catalog"),
      this.vpcs ?? settle(this.options.api.listVpcs(), "load-vpcs"),
    ]);
    if (this.hasWindow()) return;
    const modal = openCreateWindow({
      api: this.options.api,
      catalog: catalog.value,
      catalogError: catalog.error,
      vpcs: vpcs.value,
      vpcsError: vpcs.error,
      context: this.windowContext(opener),
      clipboard: this.clipboard,
      ...(this.options.now ? { now: this.options.now } : {}),
      onCreated: (key) => {
        this.say(`Key ${key.name} was created.`);
        // A new key is one of My keys, whichever view was open.
        this.pages.set("mine", 1);
        if (this.tabs.selected !== "mine") this.showView("mine");
        else void this.loadKeys();
      },
    });
    this.track(modal);
  }

  private openKeyWindow(
    action: KeyAction,
    key: ApiKeyInfo,
    opener: HTMLElement,
  ): void {
    if (this.window) return;
    const context = this.windowContext(opener);
    const api = this.options.api;
    let modal: Modal;
    switch (action) {
      case "rename":
        modal = openRenameWindow({
          api,
          key,
          context,
          onRenamed: (renamed) => {
            this.say(`Key ${key.name} was renamed to ${renamed.name}.`);
          },
        });
        break;
      case "regenerate":
        modal = openRegenerateWindow({
          api,
          key,
          context,
          clipboard: this.clipboard,
          onRegenerated: (regenerated) => {
            this.say(
              `A new secret was issued for ${regenerated.name}; the old one no longer works.`,
            );
          },
        });
        break;
      case "delete":
        modal = openDeleteWindow({
          api,
          key,
          context,
          onDeleted: (deleted) => {
            this.say(`Key ${deleted.name} was deleted.`);
            // The window stays open with the revocation receipt; the row goes at once.
            void this.loadKeys();
          },
        });
        break;
    }
    this.track(modal);
  }

  private async signOut(): Promise<void> {
    this.signOutError.hidden = true;
    try {
      await this.options.api.signOut();
      this.options.onSignedOut();
    } catch (caught) {
      this.signOutError.textContent = describeError(caught, "sign-out");
      this.signOutError.hidden = false;
    }
  }
}

async function settle<T>(
  promise: Promise<T>,
  action: "load-catalog" | "load-vpcs",
): Promise<Loaded<T>> {
  try {
    return { value: await promise, error: null };
  } catch (caught) {
    return { value: null, error: describeError(caught, action) };
  }
}
