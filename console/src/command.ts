// Sending one command from a window: the submit button is disabled while the request is in
// flight and, after a 429, for the wait the server asked for; an error is shown in words in the
// window's error slot and leaves the window as it was before the attempt.

import type { ErrorSlot, Modal } from "./dialog";
import { ApiError, asApiError, describeError, type Action } from "./errors";
import type { IdempotencyKeys } from "./idempotency";

export type Outcome<T> =
  { ok: true; value: T } | { ok: false; error: ApiError | null };

export class CommandGate {
  private inFlight = false;
  private waitTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly modal: Modal,
    private readonly submit: HTMLButtonElement,
    private readonly error: ErrorSlot,
    // Whether the window's inputs make a request the API would accept.
    private readonly ready: () => boolean,
    private readonly idempotency: IdempotencyKeys,
  ) {
    modal.onClose(() => {
      this.dispose();
    });
    this.update();
  }

  get waiting(): boolean {
    return this.waitTimer !== null;
  }

  update(): void {
    this.submit.disabled = this.inFlight || this.waiting || !this.ready();
  }

  // Sends `send` with the Idempotency-Key for `request`. On failure the error is already shown;
  // `error` is null when nothing was sent (not ready, or already in flight).
  async run<T>(
    action: Action,
    request: unknown,
    send: (idempotencyKey: string) => Promise<T>,
  ): Promise<Outcome<T>> {
    if (this.inFlight || this.waiting || !this.ready())
      return { ok: false, error: null };
    const focused =
      document.activeElement instanceof HTMLElement
        ? document.activeElement
        : null;
    this.inFlight = true;
    this.modal.setBusy(true);
    this.error.clear();
    this.update();
    try {
      const value = await send(this.idempotency.keyFor(request));
      this.idempotency.succeeded();
      return { ok: true, value };
    } catch (caught) {
      this.idempotency.failed(caught);
      const e = asApiError(caught);
      if (this.modal.isOpen) {
        this.error.show(describeError(e, action));
        if (e.status === 429 && e.retryAfterSeconds !== null) {
          this.waitBeforeRetry(e.retryAfterSeconds);
        }
      }
      return { ok: false, error: e };
    } finally {
      this.inFlight = false;
      this.modal.setBusy(false);
      this.update();
      this.modal.keepFocus(focused);
    }
  }

  private waitBeforeRetry(seconds: number): void {
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.waitTimer = setTimeout(
      () => {
        this.waitTimer = null;
        this.update();
      },
      Math.max(0, seconds) * 1000,
    );
  }

  dispose(): void {
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.waitTimer = null;
  }
}
