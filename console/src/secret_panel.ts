// The new secret, shown once: a read-only field, a copy button and the warning that it will not
// be shown again. The secret is only ever in this panel's field (as its value property, never an
// attribute) and in `secret`; destroy() empties both and removes the panel from the DOM. Nothing
// is written to any storage, URL or log.

import { actionsRow, closeWindowButton } from "./dialog";
import { button, el, uniqueId } from "./dom";

export interface ClipboardWriter {
  writeText(text: string): Promise<void>;
}

export function defaultClipboard(): ClipboardWriter | null {
  // navigator.clipboard is missing outside secure contexts.
  const clipboard = (globalThis.navigator as Partial<Navigator> | undefined)
    ?.clipboard;
  return typeof clipboard?.writeText === "function" ? clipboard : null;
}

export class SecretPanel {
  readonly element: HTMLDivElement;
  readonly copyButton: HTMLButtonElement;
  private readonly field: HTMLInputElement;
  private readonly status: HTMLParagraphElement;
  private secret: string | null;

  constructor(
    secret: string,
    heading: string,
    private readonly clipboard: ClipboardWriter | null = defaultClipboard(),
  ) {
    this.secret = secret;
    const fieldId = uniqueId("secret");
    const warningId = uniqueId("secret-warning");
    this.field = el("input", {
      id: fieldId,
      type: "text",
      readonly: true,
      class: "secret-field",
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      "aria-describedby": warningId,
      "data-lpignore": "true",
    });
    this.field.value = secret;
    this.field.addEventListener("focus", () => {
      this.field.select();
    });
    this.copyButton = button(
      "Copy secret",
      () => {
        void this.copy();
      },
      { class: "button button-primary" },
    );
    this.status = el("p", {
      class: "copy-status",
      role: "status",
      "aria-live": "polite",
    });
    this.element = el(
      "div",
      { class: "secret-panel" },
      el("h3", { class: "secret-heading" }, heading),
      el(
        "p",
        { class: "warning", id: warningId },
        el("strong", {}, "This secret is visible only once. "),
        "Copy it now and store it somewhere safe: after you close this window it cannot be shown again.",
      ),
      el("label", { for: fieldId, class: "field-label" }, "Secret key"),
      el("div", { class: "secret-row" }, this.field, this.copyButton),
      this.status,
    );
  }

  get hasSecret(): boolean {
    return this.secret !== null;
  }

  async copy(): Promise<void> {
    const secret = this.secret;
    if (secret === null) return;
    if (this.clipboard === null) {
      this.selectForManualCopy();
      return;
    }
    try {
      await this.clipboard.writeText(secret);
      this.status.textContent = "Copied to the clipboard.";
    } catch {
      this.selectForManualCopy();
    }
  }

  private selectForManualCopy(): void {
    this.field.focus();
    this.field.select();
    this.status.textContent =
      "The clipboard is not available here: the secret is selected, press Ctrl+C (or Cmd+C) to copy it.";
  }

  destroy(): void {
    this.secret = null;
    this.field.value = "";
    this.field.removeAttribute("value");
    this.status.textContent = "";
    this.element.remove();
    this.element.replaceChildren();
  }
}

// Replaces the window's content with the secret (or, after an idempotent replay, the news that
// it cannot be shown again), `after` (e.g. the revocation receipt) and a Done button; the secret
// is destroyed when the window closes.
export function showSecretInWindow(
  modal: {
    body: HTMLElement;
    onClose(cleanup: () => void): void;
    close(): void;
  },
  secret: string | null,
  heading: string,
  clipboard?: ClipboardWriter | null,
  after?: HTMLElement | null,
): SecretPanel | null {
  const done = closeWindowButton("Done", modal);
  if (secret === null) {
    modal.body.replaceChildren(
      el(
        "div",
        { class: "secret-panel" },
        el("h3", { class: "secret-heading" }, heading),
        el(
          "p",
          { class: "warning" },
          "The server had already carried out this request for an earlier attempt from this window, and a secret is never shown twice. Regenerate the key to get a new secret.",
        ),
      ),
      ...(after ? [after] : []),
      actionsRow(done),
    );
    done.focus();
    return null;
  }
  let panel: SecretPanel | null = new SecretPanel(secret, heading, clipboard);
  modal.onClose(() => {
    panel?.destroy();
    panel = null;
  });
  modal.body.replaceChildren(
    panel.element,
    ...(after ? [after] : []),
    actionsRow(done),
  );
  panel.copyButton.focus();
  return panel;
}
