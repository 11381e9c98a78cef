// The modal window every dialog of the page uses: role=dialog with aria-modal, labelled by its
// heading; the page behind it is inert; Tab and Shift+Tab stay inside; Escape closes (except
// while a request is in flight); on close, focus returns to the element that opened it, or to
// that element's re-rendered equivalent.

import { button, el, tabbableElements, uniqueId, type Child } from "./dom";

export interface WindowContext {
  // The page content, made inert while the window is open.
  background: HTMLElement | null;
  // Where focus goes when the window closes.
  returnFocus: () => HTMLElement | null;
}

export class Modal {
  readonly dialog: HTMLDivElement;
  readonly heading: HTMLHeadingElement;
  readonly body: HTMLDivElement;
  private readonly backdrop: HTMLDivElement;
  private readonly closeButton: HTMLButtonElement;
  private readonly cleanups: (() => void)[] = [];
  private busy = false;
  private state: "new" | "open" | "closed" = "new";

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      if (!this.busy) this.close();
    } else if (event.key === "Tab") {
      this.trapTab(event);
    }
  };

  private readonly onFocusIn = (event: FocusEvent): void => {
    const target = event.target;
    if (target instanceof Node && !this.dialog.contains(target)) {
      this.focusFirst();
    }
  };

  constructor(
    title: string,
    private readonly context: WindowContext,
    options: { tone?: "danger" } = {},
  ) {
    const headingId = uniqueId("dialog-title");
    this.heading = el("h2", { id: headingId, class: "dialog-title" }, title);
    this.closeButton = el(
      "button",
      { type: "button", class: "dialog-close", "aria-label": "Close" },
      "×",
    );
    this.closeButton.addEventListener("click", () => {
      if (!this.busy) this.close();
    });
    this.body = el("div", { class: "dialog-body" });
    this.dialog = el(
      "div",
      {
        role: "dialog",
        "aria-modal": "true",
        "aria-labelledby": headingId,
        tabindex: "-1",
        class: options.tone === "danger" ? "dialog dialog-danger" : "dialog",
      },
      el("div", { class: "dialog-header" }, this.heading, this.closeButton),
      this.body,
    );
    this.backdrop = el("div", { class: "dialog-backdrop" }, this.dialog);
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  open(initialFocus?: HTMLElement): void {
    if (this.state !== "new") return;
    this.state = "open";
    const background = this.context.background;
    if (background) {
      background.setAttribute("inert", "");
    }
    document.body.classList.add("has-dialog");
    document.body.appendChild(this.backdrop);
    // On the document: Escape must work even when focus fell to <body> (a focused button that
    // became disabled while its request was in flight loses focus).
    document.addEventListener("keydown", this.onKeyDown);
    document.addEventListener("focusin", this.onFocusIn);
    (initialFocus ?? tabbableElements(this.body)[0] ?? this.dialog).focus();
  }

  // Runs when the window closes, before it leaves the DOM (drop secrets here).
  onClose(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  // While busy (a request in flight) Escape and the close button do nothing.
  setBusy(busy: boolean): void {
    this.busy = busy;
    this.closeButton.disabled = busy;
    this.dialog.setAttribute("aria-busy", busy ? "true" : "false");
  }

  get isBusy(): boolean {
    return this.busy;
  }

  close(): void {
    if (this.state !== "open") return;
    this.state = "closed";
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    document.removeEventListener("keydown", this.onKeyDown);
    document.removeEventListener("focusin", this.onFocusIn);
    this.backdrop.remove();
    this.body.replaceChildren();
    document.body.classList.remove("has-dialog");
    this.context.background?.removeAttribute("inert");
    const target = this.context.returnFocus();
    if (target && target.isConnected) target.focus();
  }

  // Puts focus back inside the window if it fell out (for example to <body>).
  keepFocus(preferred: HTMLElement | null): void {
    if (!this.isOpen) return;
    const active = document.activeElement;
    if (
      active instanceof Node &&
      active !== document.body &&
      this.dialog.contains(active)
    )
      return;
    if (
      preferred &&
      preferred.isConnected &&
      !preferred.hasAttribute("disabled")
    ) {
      preferred.focus();
    } else {
      this.focusFirst();
    }
  }

  focusFirst(): void {
    (tabbableElements(this.dialog)[0] ?? this.dialog).focus();
  }

  private trapTab(event: KeyboardEvent): void {
    const tabbable = tabbableElements(this.dialog);
    const first = tabbable[0];
    const last = tabbable[tabbable.length - 1];
    if (!first || !last) {
      event.preventDefault();
      this.dialog.focus();
      return;
    }
    const active = document.activeElement;
    if (event.shiftKey && (active === first || active === this.dialog)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }
}

// A message next to the control that caused it; announced when it appears.
export class ErrorSlot {
  readonly element: HTMLParagraphElement;

  constructor() {
    this.element = el("p", {
      class: "error-message",
      role: "alert",
      id: uniqueId("error"),
    });
    this.element.hidden = true;
  }

  get id(): string {
    return this.element.id;
  }

  get text(): string | null {
    return this.element.hidden ? null : this.element.textContent;
  }

  show(text: string): void {
    this.element.textContent = text;
    this.element.hidden = false;
  }

  clear(): void {
    this.element.textContent = "";
    this.element.hidden = true;
  }
}

export function actionsRow(...buttons: HTMLElement[]): HTMLDivElement {
  return el("div", { class: "dialog-actions" }, buttons);
}

// The form of a window's step; the window checks its inputs itself.
export function dialogForm(...children: Child[]): HTMLFormElement {
  return el("form", { class: "dialog-form", novalidate: true }, children);
}

// The button that sends a window's form.
export function submitButton(
  label: string,
  tone: "primary" | "danger" = "primary",
): HTMLButtonElement {
  return el(
    "button",
    { type: "submit", class: `button button-${tone}` },
    label,
  );
}

// A button that closes the window (Cancel, Done).
export function closeWindowButton(
  label: string,
  modal: { close(): void },
): HTMLButtonElement {
  return button(
    label,
    () => {
      modal.close();
    },
    { class: "button" },
  );
}
