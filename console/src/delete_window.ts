// "Delete model access key": confirmed by typing the key's name; permanent, and the secret
// stops working at once.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import type { KeyWindowOptions } from "./command";
import { openConfirmNameWindow } from "./confirm_name";
import type { Modal } from "./dialog";
import { el } from "./dom";

export interface DeleteWindowOptions extends KeyWindowOptions {
  api: Pick<ConsoleApi, "deleteKey">;
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
    onConfirmed: (_, modal) => {
      modal.close();
      options.onDeleted(key);
    },
  });
}
