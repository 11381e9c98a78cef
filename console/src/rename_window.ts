// "Rename model access key": a new name for the key; the secret is unchanged and keeps working.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import { CommandGate } from "./command";
import { Modal, ErrorSlot, actionsRow, type WindowContext } from "./dialog";
import { button, el, uniqueId } from "./dom";
import { IdempotencyKeys } from "./idempotency";
import { keyNameProblem, normalizeKeyName } from "./rules";

export interface RenameWindowOptions {
  api: Pick<ConsoleApi, "renameKey">;
  key: ApiKeyInfo;
  context: WindowContext;
  onRenamed: (key: ApiKeyInfo) => void;
  idempotency?: IdempotencyKeys;
}

export function openRenameWindow(options: RenameWindowOptions): Modal {
  const { key } = options;
  const modal = new Modal("Rename model access key", options.context);
  const error = new ErrorSlot();
  const inputId = uniqueId("rename");
  const problemId = uniqueId("rename-problem");
  const input = el("input", {
    id: inputId,
    type: "text",
    class: "text-input",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${problemId} ${error.id}`,
  });
  input.value = key.name;
  const problem = el("p", { id: problemId, class: "field-problem" });
  const newName = (): string => normalizeKeyName(input.value);
  const ready = (): boolean =>
    keyNameProblem(input.value) === null && newName() !== key.name;

  const update = el(
    "button",
    { type: "submit", class: "button button-primary" },
    "Update",
  );
  const cancel = button(
    "Cancel",
    () => {
      modal.close();
    },
    { class: "button" },
  );
  const gate = new CommandGate(
    modal,
    update,
    error,
    ready,
    options.idempotency ?? new IdempotencyKeys(),
  );
  input.addEventListener("input", () => {
    const text = input.value.trim() === "" ? null : keyNameProblem(input.value);
    problem.textContent = text ?? "";
    if (text === null) input.removeAttribute("aria-invalid");
    else input.setAttribute("aria-invalid", "true");
    gate.update();
  });

  const form = el(
    "form",
    { class: "dialog-form", novalidate: true },
    el(
      "p",
      {},
      "The key keeps its secret, models and VPC network; only its name changes.",
    ),
    el(
      "div",
      { class: "field" },
      el("label", { for: inputId, class: "field-label" }, "Key name"),
      input,
      problem,
    ),
    error.element,
    actionsRow(cancel, update),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = newName();
    void gate
      .run("rename", { uuid: key.uuid, name }, (idempotencyKey) =>
        options.api.renameKey(key.uuid, name, idempotencyKey),
      )
      .then((outcome) => {
        cancel.disabled = false;
        if (!outcome.ok) {
          if (outcome.error?.status === 400)
            input.setAttribute("aria-invalid", "true");
          return;
        }
        modal.close();
        options.onRenamed(outcome.value);
      });
    cancel.disabled = true;
  });
  modal.body.append(form);
  modal.open(input);
  input.select();
  return modal;
}
