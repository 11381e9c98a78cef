// The "type the key's name to confirm" field of the Regenerate and Delete windows.

import { el, uniqueId } from "./dom";
import type { ErrorSlot } from "./dialog";
import { confirmationMatches } from "./rules";

export const CONFIRM_LABEL = "Type the key name to confirm";

export class ConfirmNameField {
  readonly element: HTMLDivElement;
  readonly input: HTMLInputElement;

  constructor(
    private readonly keyName: string,
    error: ErrorSlot,
    onInput: () => void,
  ) {
    const inputId = uniqueId("confirm-name");
    const hintId = uniqueId("confirm-hint");
    this.input = el("input", {
      id: inputId,
      type: "text",
      class: "text-input",
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      "aria-describedby": `${hintId} ${error.id}`,
    });
    this.input.addEventListener("input", () => {
      this.input.removeAttribute("aria-invalid");
      onInput();
    });
    this.element = el(
      "div",
      { class: "field" },
      el("label", { for: inputId, class: "field-label" }, CONFIRM_LABEL),
      el(
        "p",
        { id: hintId, class: "field-hint" },
        "The key's name is ",
        el("strong", { class: "key-name" }, keyName),
        ". Type it exactly as shown.",
      ),
      this.input,
    );
  }

  get value(): string {
    return this.input.value;
  }

  matches(): boolean {
    return confirmationMatches(this.input.value, this.keyName);
  }

  markInvalid(): void {
    this.input.setAttribute("aria-invalid", "true");
  }
}
