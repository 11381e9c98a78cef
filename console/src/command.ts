// Sending one command from a window: the submit button is disabled while the request is in
// flight and, after a 429, for the wait the server asked for (the window's Cancel or Back button
// while it is in flight); an error is shown in words in the window's error slot and leaves the
// window as it was before the attempt.

import type { ApiKeyInfo } from "./api";
import type { ErrorSlot, Modal, WindowContext } from "./dialog";
import { ApiError, asApiError, describeError, type Action } from "./errors";
import { IdempotencyKeys } from "./idempotency";

// What every window that sends a command about one key is given.
export interface KeyWindowOptions {
  key: ApiKeyInfo;
  context: WindowContext;
  // By default each window has keys of its own (tests pass theirs).
  idempotency?: IdempotencyKeys | undefined;
}

export type Outcome<T> =
  { ok: true; value: T } | { ok: false; error: ApiError | null };

export interface CommandGateOptions {
  submit: HTMLButtonElement;
  // The window's other buttons that must wait for the answer (Cancel, Back).
  heldWhileSending?: HTMLButtonElement[];
  error: ErrorSlot;
  // Whether the window's inputs make a request the API would accept.
  ready: () => boolean;
  idempotency?: IdempotencyKeys | undefined;
}

export class CommandGate {
  private inFlight = false;
  private waitTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly submit: HTMLButtonElement;
  private readonly held: HTMLButtonElement[];
  private readonly error: ErrorSlot;
  private readonly ready: () => boolean;
  private readonly idempotency: IdempotencyKeys;

  constructor(
    private readonly modal: Modal,
    options: CommandGateOptions,
  ) {
    this.submit = options.submit;
    this.held = options.heldWhileSending ?? [];
    this.error = options.error;
    this.ready = options.ready;
    this.idempotency = options.idempotency ?? new IdempotencyKeys();
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

  private hold(held: boolean): void {
    for (const button of this.held) button.disabled = held;
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
    this.hold(true);
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
      this.hold(false);
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
