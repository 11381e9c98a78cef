// "Regenerate model access key": confirmed by typing the key's name; the old secret stops
// working at once (no grace period) and the new one is shown once.

import type { ApiKeyInfo, CommandResult, ConsoleApi } from "./api";
import { CommandGate } from "./command";
import { ConfirmNameField } from "./confirm_name";
import { Modal, ErrorSlot, actionsRow, type WindowContext } from "./dialog";
import { button, el } from "./dom";
import { IdempotencyKeys } from "./idempotency";
import { showSecretInWindow, type ClipboardWriter } from "./secret_panel";

export interface RegenerateWindowOptions {
  api: Pick<ConsoleApi, "regenerateKey">;
  key: ApiKeyInfo;
  context: WindowContext;
  onRegenerated: (key: ApiKeyInfo) => void;
  clipboard?: ClipboardWriter | null;
  idempotency?: IdempotencyKeys;
}

export function openRegenerateWindow(options: RegenerateWindowOptions): Modal {
  const { key } = options;
  const modal = new Modal("Regenerate model access key", options.context, {
    tone: "danger",
  });
  const error = new ErrorSlot();
  const submit = el(
    "button",
    { type: "submit", class: "button button-danger" },
    "Regenerate access key",
  );
  const cancel = button(
    "Cancel",
    () => {
      modal.close();
    },
    { class: "button" },
  );
  let gate: CommandGate | null = null;
  const confirm = new ConfirmNameField(key.name, error, () => gate?.update());
  gate = new CommandGate(
    modal,
    submit,
    error,
    () => confirm.matches(),
    options.idempotency ?? new IdempotencyKeys(),
  );
  const activeGate = gate;

  const form = el(
    "form",
    { class: "dialog-form", novalidate: true },
    el(
      "p",
      {},
      "A new secret replaces the secret of ",
      el("strong", {}, key.name),
      ". The key keeps its name, models and VPC network.",
    ),
    el(
      "p",
      { class: "warning" },
      el("strong", {}, "There is no grace period. "),
      "The current secret stops working immediately: every client still using it is refused until it has the new secret.",
    ),
    confirm.element,
    error.element,
    actionsRow(cancel, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const confirmName = confirm.value;
    cancel.disabled = true;
    void activeGate
      .run<CommandResult>(
        "regenerate",
        { uuid: key.uuid, confirmName },
        (idempotencyKey) =>
          options.api.regenerateKey(key.uuid, confirmName, idempotencyKey),
      )
      .then((outcome) => {
        cancel.disabled = false;
        if (!outcome.ok) {
          if (outcome.error?.status === 409) {
            confirm.markInvalid();
            confirm.input.focus();
          }
          return;
        }
        const result = outcome.value;
        showSecretInWindow(
          modal,
          result.secret,
          `New secret for ${result.key.name}`,
          options.clipboard,
        );
        options.onRegenerated(result.key);
      });
  });
  modal.body.append(form);
  modal.open(confirm.input);
  return modal;
}
