// The "type the key's name to confirm" windows (Regenerate and Delete): their field, and the
// window around it that sends the command once the typed name matches.

import { CommandGate, type KeyWindowOptions } from "./command";
import {
  ErrorSlot,
  Modal,
  actionsRow,
  closeWindowButton,
  dialogForm,
  submitButton,
} from "./dialog";
import { el, textInput, uniqueId, type Child } from "./dom";
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
    this.input = textInput(inputId, {
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

// What makes a confirmation window the Regenerate or the Delete window.
export interface ConfirmNameWindow<T> {
  title: string;
  // The submit button's label.
  confirmLabel: string;
  action: "regenerate" | "delete";
  // What the window says above the field.
  explanation: Child[];
  send: (confirmName: string, idempotencyKey: string) => Promise<T>;
  // After the command succeeded, with the window still open.
  onConfirmed: (value: T, modal: Modal) => void;
}

// A danger window: the explanation, the confirmation field, Cancel and the confirm button, which
// is enabled only while the typed name matches the key's. A 409 (the key's name changed
// meanwhile) marks the field; every error leaves the window open as it was.
export function openConfirmNameWindow<T>(
  options: KeyWindowOptions,
  variant: ConfirmNameWindow<T>,
): Modal {
  const { key } = options;
  const modal = new Modal(variant.title, options.context, { tone: "danger" });
  const error = new ErrorSlot();
  const submit = submitButton(variant.confirmLabel, "danger");
  const cancel = closeWindowButton("Cancel", modal);
  let gate: CommandGate | null = null;
  const confirm = new ConfirmNameField(key.name, error, () => gate?.update());
  gate = new CommandGate(modal, {
    submit,
    heldWhileSending: [cancel],
    error,
    ready: () => confirm.matches(),
    idempotency: options.idempotency,
  });
  const activeGate = gate;

  const form = dialogForm(
    ...variant.explanation,
    confirm.element,
    error.element,
    actionsRow(cancel, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const confirmName = confirm.value;
    void activeGate
      .run(variant.action, { uuid: key.uuid, confirmName }, (idempotencyKey) =>
        variant.send(confirmName, idempotencyKey),
      )
      .then((outcome) => {
        if (!outcome.ok) {
          if (outcome.error?.status === 409) {
            confirm.markInvalid();
            confirm.input.focus();
          }
          return;
        }
        variant.onConfirmed(outcome.value, modal);
      });
  });
  modal.body.append(form);
  modal.open(confirm.input);
  return modal;
}
