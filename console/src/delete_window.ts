// "Delete model access key": confirmed by typing the key's name; permanent, and the secret
// stops working at once. After the delete the window says so and shows the revocation receipt
// (on how many validators the secret is already denied), updating live until it is closed.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import type { KeyWindowOptions } from "./command";
import { openConfirmNameWindow } from "./confirm_name";
import { actionsRow, closeWindowButton, type Modal } from "./dialog";
import { el } from "./dom";
import { watchRevocation } from "./revocation";

export interface DeleteWindowOptions extends KeyWindowOptions {
  api: Pick<ConsoleApi, "deleteKey" | "revocation">;
  onDeleted: (key: ApiKeyInfo) => void;
}

export function openDeleteWindow(options: DeleteWindowOptions): Modal {
  const { key } = options;
  return openConfirmNameWindow(options, {
    title: "Delete model access key",
    confirmLabel: "Delete access key",
    action: "delete",
    explanation: [
      el(
        "p",
        { class: "warning" },
        el("strong", {}, "Deleting is permanent. "),
        "The secret of ",
        el("strong", {}, key.name),
        " stops working at once, and the key cannot be restored.",
      ),
    ],
    send: (confirmName, idempotencyKey) =>
      options.api.deleteKey(key.uuid, confirmName, idempotencyKey),
    onConfirmed: (result, modal) => {
      const receipt = watchRevocation(modal, {
        api: options.api,
        receipt: result.revocation,
      });
      const done = closeWindowButton("Done", modal);
      modal.body.replaceChildren(
        el(
          "div",
          { class: "deleted-panel" },
          el("h3", { class: "secret-heading" }, "Key deleted"),
          el(
            "p",
            {},
            "The key ",
            el("strong", {}, key.name),
            " was deleted and cannot be restored.",
          ),
        ),
        receipt.element,
        actionsRow(done),
      );
      done.focus();
      options.onDeleted(key);
    },
  });
}
