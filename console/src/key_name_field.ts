// The key name field of the Create and Rename windows: the name rules of SPEC section 1 are
// checked as the user types, and a broken rule is said under the field.

import { el, textInput, uniqueId } from "./dom";
import { keyNameProblem, normalizeKeyName } from "./rules";

export interface KeyNameFieldOptions {
  label: string;
  // The name the field starts with.
  value?: string;
  // Another description of the field (the window's error slot), after the name's problem.
  describedBy?: string;
  onInput: () => void;
}

export class KeyNameField {
  readonly element: HTMLDivElement;
  readonly input: HTMLInputElement;

  constructor(options: KeyNameFieldOptions) {
    const inputId = uniqueId("key-name");
    const problemId = uniqueId("key-name-problem");
    this.input = textInput(inputId, {
      "aria-describedby":
        options.describedBy === undefined
          ? problemId
          : `${problemId} ${options.describedBy}`,
    });
    if (options.value !== undefined) this.input.value = options.value;
    const problem = el("p", { id: problemId, class: "field-problem" });
    this.input.addEventListener("input", () => {
      // An empty field is not an error yet; the submit button stays disabled.
      const text =
        this.input.value.trim() === ""
          ? null
          : keyNameProblem(this.input.value);
      problem.textContent = text ?? "";
      if (text === null) this.input.removeAttribute("aria-invalid");
      else this.markInvalid();
      options.onInput();
    });
    this.element = el(
      "div",
      { class: "field" },
      el("label", { for: inputId, class: "field-label" }, options.label),
      this.input,
      problem,
    );
  }

  // The name as typed.
  get value(): string {
    return this.input.value;
  }

  // The name as it is sent (surrounding spaces trimmed).
  get name(): string {
    return normalizeKeyName(this.input.value);
  }

  // Whether the name follows the rules.
  isValid(): boolean {
    return keyNameProblem(this.input.value) === null;
  }

  markInvalid(): void {
    this.input.setAttribute("aria-invalid", "true");
  }
}
