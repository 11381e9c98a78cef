// "Rename model access key": a new name for the key; the secret is unchanged and keeps working.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import { CommandGate, type KeyWindowOptions } from "./command";
import {
  Modal,
  ErrorSlot,
  actionsRow,
  closeWindowButton,
  dialogForm,
  submitButton,
} from "./dialog";
import { el } from "./dom";
import { KeyNameField } from "./key_name_field";

export interface RenameWindowOptions extends KeyWindowOptions {
  api: Pick<ConsoleApi, "renameKey">;
  onRenamed: (key: ApiKeyInfo) => void;
}

export function openRenameWindow(options: RenameWindowOptions): Modal {
  const { key } = options;
  const modal = new Modal("Rename model access key", options.context);
  const error = new ErrorSlot();
  const field = new KeyNameField({
    label: "Key name",
    value: key.name,
    describedBy: error.id,
    onInput: () => {
      gate.update();
    },
  });
  const ready = (): boolean => field.isValid() && field.name !== key.name;

  const update = submitButton("Update");
  const cancel = closeWindowButton("Cancel", modal);
  const gate = new CommandGate(modal, {
    submit: update,
    heldWhileSending: [cancel],
    error,
    ready,
    idempotency: options.idempotency,
  });

  const form = dialogForm(
    el(
      "p",
      {},
      "The key keeps its secret, models and VPC network; only its name changes.",
    ),
    field.element,
    error.element,
    actionsRow(cancel, update),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = field.name;
    void gate
      .run("rename", { uuid: key.uuid, name }, (idempotencyKey) =>
        options.api.renameKey(key.uuid, name, idempotencyKey),
      )
      .then((outcome) => {
        if (!outcome.ok) {
          if (outcome.error?.status === 400) field.markInvalid();
          return;
        }
        modal.close();
        options.onRenamed(outcome.value);
      });
  });
  modal.body.append(form);
  modal.open(field.input);
  field.input.select();
  return modal;
}
