// "Delete model access key": confirmed by typing the key's name; permanent, and the secret
// stops working at once.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import { CommandGate } from "./command";
import { ConfirmNameField } from "./confirm_name";
import { Modal, ErrorSlot, actionsRow, type WindowContext } from "./dialog";
import { button, el } from "./dom";
import { IdempotencyKeys } from "./idempotency";

export interface DeleteWindowOptions {
  api: Pick<ConsoleApi, "deleteKey">;
  key: ApiKeyInfo;
  context: WindowContext;
  onDeleted: (key: ApiKeyInfo) => void;
  idempotency?: IdempotencyKeys;
}

export function openDeleteWindow(options: DeleteWindowOptions): Modal {
  const { key } = options;
  const modal = new Modal("Delete model access key", options.context, {
    tone: "danger",
  });
  const error = new ErrorSlot();
  const submit = el(
    "button",
    { type: "submit", class: "button button-danger" },
    "Delete access key",
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
      { class: "warning" },
      el("strong", {}, "Deleting is permanent. "),
      "The secret of ",
      el("strong", {}, key.name),
      " stops working at once, and the key cannot be restored.",
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
      .run("delete", { uuid: key.uuid, confirmName }, (idempotencyKey) =>
        options.api.deleteKey(key.uuid, confirmName, idempotencyKey),
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
        modal.close();
        options.onDeleted(key);
      });
  });
  modal.body.append(form);
  modal.open(confirm.input);
  return modal;
}
