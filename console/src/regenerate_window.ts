// "Regenerate model access key": confirmed by typing the key's name; the old secret stops
// working at once (no grace period) and the new one is shown once, with the revocation receipt
// (on how many validators the old secret is already denied) updating live under it.

import type { ApiKeyInfo, ConsoleApi } from "./api";
import type { KeyWindowOptions } from "./command";
import { openConfirmNameWindow } from "./confirm_name";
import type { Modal } from "./dialog";
import { el } from "./dom";
import { watchRevocation } from "./revocation";
import { showSecretInWindow, type ClipboardWriter } from "./secret_panel";

export interface RegenerateWindowOptions extends KeyWindowOptions {
  api: Pick<ConsoleApi, "regenerateKey" | "revocation">;
  onRegenerated: (key: ApiKeyInfo) => void;
  clipboard?: ClipboardWriter | null;
}

export function openRegenerateWindow(options: RegenerateWindowOptions): Modal {
  const { key } = options;
  return openConfirmNameWindow(options, {
    title: "Regenerate model access key",
    confirmLabel: "Regenerate access key",
    action: "regenerate",
    explanation: [
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
    ],
    send: (confirmName, idempotencyKey) =>
      options.api.regenerateKey(key.uuid, confirmName, idempotencyKey),
    onConfirmed: (result, modal) => {
      const receipt = watchRevocation(modal, {
        api: options.api,
        receipt: result.revocation,
      });
      showSecretInWindow(
        modal,
        result.secret,
        `New secret for ${result.key.name}`,
        options.clipboard,
        receipt.element,
      );
      options.onRegenerated(result.key);
    },
  });
}
