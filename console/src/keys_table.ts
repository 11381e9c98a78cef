// One view's table of keys: name, models (the full list on hover and on focus), VPC, created
// date, last use, expiry, secret hint, creator (Team's and Legacy keys), and the "…" menu on
// rows the signed-in user may manage; newest first as the API lists them; pagination and empty
// states. "Last used" and the expiry badges are relative to the time the table is drawn.

import type { ApiKeyInfo, KeyPage, KeyView, SignedInUser, Vpc } from "./api";
import { button, el, findByFocusKey, screenReaderText, uniqueId } from "./dom";
import { EXPIRED, keyExpiry } from "./expiry";
import {
  formatDate,
  formatDateTime,
  formatUtcMinute,
  lastUsedText,
  secretHintText,
  vpcLabel,
} from "./format";
import { modelCell } from "./models";
import { pageState } from "./pagination";
import { RowMenu, type KeyAction } from "./row_menu";
import { canManageKey } from "./rules";

export type ListState =
  | { status: "loading" }
  | { status: "error"; message: string }
  | { status: "ready"; page: KeyPage };

export interface KeysTableOptions {
  view: KeyView;
  viewLabel: string;
  user: Pick<SignedInUser, "role" | "user_id">;
  vpcs: () => readonly Vpc[];
  onAction: (action: KeyAction, key: ApiKeyInfo, opener: HTMLElement) => void;
  onPage: (page: number) => void;
  onRetry: () => void;
  // The focused control left the table (its row was deleted).
  onFocusLost?: () => void;
  // The clock "Last used" and expiry are told against (tests pass theirs).
  now?: () => Date;
}

export function emptyStateText(view: KeyView): string {
  switch (view) {
    case "mine":
      return "You have not created any model access keys yet. Use “Create model access key” to make one.";
    case "legacy":
      return "Your team has no legacy keys. Legacy keys are keys created before model and VPC scoping existed.";
    case "team":
      return "No other member of your team has created a model access key.";
  }
}

export function showsCreator(view: KeyView): boolean {
  return view !== "mine";
}

export class KeysTable {
  readonly element: HTMLDivElement;
  private last: ListState = { status: "loading" };

  constructor(private readonly options: KeysTableOptions) {
    this.element = el("div", { class: "keys-table" });
  }

  // Renders the last state again (for example once the VPC names are known).
  redraw(): void {
    if (this.last.status === "ready") this.show(this.last);
  }

  show(state: ListState): void {
    this.last = state;
    // Keep focus on the same control (by data-focus-key) across the re-render.
    const active = document.activeElement;
    const focusKey =
      active instanceof HTMLElement && this.element.contains(active)
        ? (active.dataset["focusKey"] ?? null)
        : null;
    if (state.status === "loading") {
      if (this.element.childElementCount === 0) {
        this.element.replaceChildren(
          el("p", { class: "loading" }, "Loading keys…"),
        );
      }
      return;
    }
    if (state.status === "error") {
      this.element.replaceChildren(
        el("p", { class: "error-message", role: "alert" }, state.message),
        button(
          "Try again",
          () => {
            this.options.onRetry();
          },
          { class: "button", "data-focus-key": "retry" },
        ),
      );
    } else {
      this.element.replaceChildren(...this.renderPage(state.page));
    }
    if (focusKey !== null) this.refocus(focusKey);
  }

  private refocus(focusKey: string): void {
    let target = findByFocusKey(this.element, focusKey);
    if (
      (target === null || target.hasAttribute("disabled")) &&
      focusKey.startsWith("page-")
    ) {
      // The page button that was used is now disabled (first or last page): use the other.
      const other = focusKey === "page-next" ? "page-previous" : "page-next";
      target = findByFocusKey(this.element, other);
    }
    if (target) target.focus();
    else this.options.onFocusLost?.();
  }

  private renderPage(page: KeyPage): HTMLElement[] {
    const { view } = this.options;
    if (page.total === 0 || page.keys.length === 0) {
      return [
        el(
          "div",
          { class: "empty-state" },
          el(
            "p",
            {},
            page.total === 0 ? emptyStateText(view) : "This page is empty.",
          ),
        ),
      ];
    }
    const creator = showsCreator(view);
    const now = (this.options.now ?? (() => new Date()))();
    const headers = [
      "Name",
      "Models",
      "VPC",
      "Created",
      "Last used",
      "Expires",
      "Secret",
      ...(creator ? ["Creator"] : []),
    ];
    const table = el(
      "table",
      { class: "table" },
      el(
        "caption",
        { class: "sr-only" },
        `${this.options.viewLabel}, newest first`,
      ),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          headers.map((h) => el("th", { scope: "col" }, h)),
          el("th", { scope: "col" }, screenReaderText("Actions")),
        ),
      ),
      el(
        "tbody",
        {},
        page.keys.map((key) => this.renderRow(key, creator, now)),
      ),
    );
    return [
      el("div", { class: "table-wrap" }, table),
      this.renderPagination(page),
    ];
  }

  private renderRow(
    key: ApiKeyInfo,
    creator: boolean,
    now: Date,
  ): HTMLTableRowElement {
    const vpcs = this.options.vpcs();
    const canManage = canManageKey(this.options.user, key);
    let actions: HTMLElement;
    if (canManage) {
      actions = new RowMenu(key, (action, opener) => {
        this.options.onAction(action, key, opener);
      }).element;
    } else {
      actions = el(
        "span",
        { class: "no-actions" },
        screenReaderText(
          `Only its creator or a team owner can change ${key.name}`,
        ),
      );
    }
    return el(
      "tr",
      {},
      el(
        "th",
        { scope: "row", class: "key-name", "data-label": "Name" },
        key.name,
        key.legacy
          ? el("span", { class: "badge badge-muted" }, "Legacy")
          : null,
      ),
      el("td", { "data-label": "Models" }, modelsCell(key)),
      el("td", { "data-label": "VPC" }, vpcLabel(key.vpc_uuid, vpcs)),
      el(
        "td",
        { "data-label": "Created" },
        el(
          "time",
          {
            datetime: key.created_at,
            title: formatDateTime(key.created_at),
          },
          formatDate(key.created_at),
        ),
      ),
      el("td", { "data-label": "Last used" }, lastUsedCell(key, now)),
      expiryCell(key, now),
      el(
        "td",
        { "data-label": "Secret", class: "mono" },
        screenReaderText("ends in "),
        secretHintText(key.secret_hint),
      ),
      creator ? el("td", { "data-label": "Creator" }, key.creator_name) : null,
      el("td", { class: "actions" }, actions),
    );
  }

  private renderPagination(page: KeyPage): HTMLElement {
    const state = pageState(page.page, page.total, page.perPage);
    const summary = el(
      "p",
      { class: "page-summary" },
      state.pageCount > 1
        ? `Page ${String(state.page)} of ${String(state.pageCount)} · ${state.summary}`
        : state.summary,
    );
    if (state.pageCount <= 1) {
      return el("div", { class: "pagination" }, summary);
    }
    const previous = button(
      "Previous page",
      () => {
        this.options.onPage(state.page - 1);
      },
      {
        class: "button",
        disabled: !state.hasPrevious,
        "data-focus-key": "page-previous",
      },
    );
    const next = button(
      "Next page",
      () => {
        this.options.onPage(state.page + 1);
      },
      {
        class: "button",
        disabled: !state.hasNext,
        "data-focus-key": "page-next",
      },
    );
    return el(
      "nav",
      {
        class: "pagination",
        "aria-label": `Pages of ${this.options.viewLabel}`,
      },
      previous,
      summary,
      next,
    );
  }
}

// "Never", or how long ago with the exact minute (UTC) as the tooltip and for screen readers.
export function lastUsedCell(
  key: Pick<ApiKeyInfo, "last_used_at">,
  now: Date,
): HTMLElement {
  const { text, exact } = lastUsedText(key.last_used_at, now);
  if (exact === null || key.last_used_at === null) {
    return el("span", { class: "never-used" }, text);
  }
  return el(
    "span",
    {},
    el("time", { datetime: key.last_used_at, title: exact }, text),
    screenReaderText(` (${exact})`),
  );
}

// Nothing to see for a key that never expires (screen readers hear "Does not expire"); otherwise
// the expiry date (the exact minute, UTC, as its tooltip), with an "Expired" badge or, within
// EXPIRY_WARNING_DAYS, an "Expires in N days" one. The badges are words, not only colours.
export function expiryCell(
  key: Pick<ApiKeyInfo, "expires_at" | "expired">,
  now: Date,
): HTMLTableCellElement {
  const expiry = keyExpiry(key, now);
  if (expiry.kind === "never") {
    return el(
      "td",
      { "data-label": "Expires", class: "no-expiry" },
      screenReaderText("Does not expire"),
    );
  }
  const date =
    expiry.at === null
      ? null
      : el(
          "time",
          { datetime: expiry.at, title: formatUtcMinute(expiry.at) },
          formatDate(expiry.at),
        );
  const badge =
    expiry.kind === "expired"
      ? el("span", { class: "badge badge-danger" }, EXPIRED)
      : expiry.badge === null
        ? null
        : el("span", { class: "badge badge-warning" }, expiry.badge);
  return el(
    "td",
    { "data-label": "Expires" },
    el("span", { class: "expiry" }, date, date && badge ? " " : null, badge),
  );
}

// The models cell: a summary ("All models", "GPT-4o, Claude 3.5 Haiku +1 more", a "Batch
// Inference" badge) that shows every callable model in a tooltip on hover and on focus.
export function modelsCell(
  key: Pick<ApiKeyInfo, "uuid" | "all_models" | "models" | "batch_inference">,
): HTMLElement {
  const cell = modelCell(key);
  const tooltipId = uniqueId("models-tip");
  const trigger = el(
    "button",
    {
      type: "button",
      class: "models-trigger",
      "aria-describedby": tooltipId,
      "data-focus-key": `models:${key.uuid}`,
    },
    el("span", {}, cell.summary),
    cell.badges.map((b) => [" ", el("span", { class: "badge" }, b)]).flat(),
  );
  const tooltip = el(
    "div",
    {
      role: "tooltip",
      id: tooltipId,
      class: cell.tooltip.length > 6 ? "tooltip tooltip-long" : "tooltip",
    },
    el("p", { class: "tooltip-title" }, "Models this key can call:"),
    el(
      "ul",
      {},
      cell.tooltip.map((name) => el("li", {}, name)),
    ),
  );
  const wrapper = el("div", { class: "models-cell" }, trigger, tooltip);
  const dismiss = (): void => {
    wrapper.classList.add("tooltip-dismissed");
  };
  const restore = (): void => {
    wrapper.classList.remove("tooltip-dismissed");
  };
  trigger.addEventListener("keydown", (event) => {
    if (
      event.key === "Escape" &&
      !wrapper.classList.contains("tooltip-dismissed")
    ) {
      event.preventDefault();
      dismiss();
    }
  });
  trigger.addEventListener("click", () => {
    wrapper.classList.toggle("tooltip-dismissed");
  });
  trigger.addEventListener("blur", restore);
  wrapper.addEventListener("mouseleave", restore);
  return wrapper;
}
