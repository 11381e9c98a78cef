// The revocation receipt after a regenerate or a delete: on how many validator replicas the old
// secret is already denied. It starts from the receipt in the command's answer and, while not
// every validator has applied the revoking event, asks the receipt's href
// (/v2/gen-ai/revocations/{partition}/{offset}?wait=2, deleted keys included) again and again
// (each answer updates the line) until they all have, the window closes, or 60 s passed. A failed
// request is said in a few words and retried after a pause; nothing here ever throws.

import type { ConsoleApi, RevocationReceipt, ValidatorReceipt } from "./api";
import { el } from "./dom";
import { asApiError, type ApiError } from "./errors";

// Seconds the server may hold each request until the receipt is complete.
export const POLL_WAIT_SECONDS = 2;
// After this, the line stops updating and keeps the last state.
export const GIVE_UP_AFTER_MS = 60_000;
// The pause after a failed request.
export const RETRY_DELAY_MS = 3_000;
// The shortest time between two requests (a server that answers at once is not hammered).
export const MIN_INTERVAL_MS = 500;

// Answers that will not change by asking again: the key is not (or no longer) the caller's, the
// session ended, or the server has no view of the validators.
const FINAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404]);

function formatDuration(ms: number): string {
  return ms < 1000 ? `${String(Math.round(ms))} ms` : seconds(ms);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

// Every validator applied the revoking event (never with none: nobody has reported yet).
export function isComplete(receipt: RevocationReceipt): boolean {
  return receipt.complete && receipt.validators_total > 0;
}

// The time the revocation took: the largest took_ms, when every validator reported one.
export function revocationTime(receipt: RevocationReceipt): number | null {
  if (receipt.validators.length === 0) return null;
  let largest = 0;
  for (const v of receipt.validators) {
    if (v.took_ms === undefined) return null;
    largest = Math.max(largest, v.took_ms);
  }
  return largest;
}

// "Old secret denied on 2 of 3 validators" (the server's summary, capitalized); when complete,
// with the time it took when known.
export function receiptHeadline(receipt: RevocationReceipt): string {
  if (receipt.validators_total <= 0) return "No validators have reported yet";
  const line = `Old secret denied on ${String(receipt.validators_applied)} of ${String(receipt.validators_total)} validators`;
  if (!isComplete(receipt)) return line;
  const took = revocationTime(receipt);
  return took === null ? line : `${line} in ${formatDuration(took)}`;
}

// A validator that has not confirmed yet, in words: "replica-3: silent, last heard 3.0 s ago".
export function laggingText(validator: ValidatorReceipt): string | null {
  switch (validator.state) {
    case "applied":
      return null;
    case "behind":
      return `${validator.replica_id}: behind`;
    case "silent":
      return `${validator.replica_id}: silent, last heard ${seconds(validator.heard_ms_ago)} ago`;
  }
}

export function laggingValidators(receipt: RevocationReceipt): string[] {
  return receipt.validators
    .map(laggingText)
    .filter((text): text is string => text !== null);
}

function shortError(error: ApiError): string {
  if (error.status === 0) return "no answer from the server";
  if (error.status === 429) return "the server asked to slow down";
  return `the server answered ${String(error.status)}`;
}

export interface RevocationStatusOptions {
  api: Pick<ConsoleApi, "revocation">;
  // The receipt in the command's answer (null when it had none: the server has no view of the
  // validators, and the line stays hidden).
  receipt: RevocationReceipt | null;
  waitSeconds?: number;
  giveUpAfterMs?: number;
  retryDelayMs?: number;
  minIntervalMs?: number;
}

type Phase = "new" | "watching" | "done" | "stopped" | "closed";

// The receipt line: a polite live region (headline and what the line is doing), and under it the
// validators that have not confirmed (not live: their "last heard" changes with every answer).
export class RevocationStatus {
  readonly element: HTMLDivElement;
  private readonly mark: HTMLSpanElement;
  private readonly headline: HTMLSpanElement;
  private readonly note: HTMLParagraphElement;
  private readonly lagging: HTMLUListElement;
  private readonly api: Pick<ConsoleApi, "revocation">;
  private readonly waitSeconds: number;
  private readonly giveUpAfterMs: number;
  private readonly retryDelayMs: number;
  private readonly minIntervalMs: number;
  private receipt: RevocationReceipt | null;
  private phase: Phase = "new";
  // Why it stopped, or the failure it is about to retry.
  private problem: string | null = null;
  private inFlight: AbortController | null = null;
  private giveUpTimer: ReturnType<typeof setTimeout> | null = null;
  private pause: {
    timer: ReturnType<typeof setTimeout>;
    end: () => void;
  } | null = null;

  constructor(options: RevocationStatusOptions) {
    this.api = options.api;
    this.receipt = options.receipt;
    this.waitSeconds = options.waitSeconds ?? POLL_WAIT_SECONDS;
    this.giveUpAfterMs = options.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    this.retryDelayMs = options.retryDelayMs ?? RETRY_DELAY_MS;
    this.minIntervalMs = options.minIntervalMs ?? MIN_INTERVAL_MS;
    this.mark = el("span", { class: "revocation-mark", "aria-hidden": "true" });
    this.headline = el("span", { class: "revocation-headline" });
    this.note = el("p", { class: "revocation-note" });
    const live = el(
      "div",
      { role: "status", "aria-live": "polite", "aria-atomic": "true" },
      el("p", { class: "revocation-line" }, this.mark, this.headline),
      this.note,
    );
    this.lagging = el("ul", {
      class: "revocation-lagging",
      "aria-label": "Validators that have not confirmed yet",
    });
    this.element = el("div", { class: "revocation" }, live, this.lagging);
    this.render();
  }

  get complete(): boolean {
    return this.phase === "done";
  }

  // Whether it still asks the server.
  get watching(): boolean {
    return this.isWatching();
  }

  // A method, not a property: the phase changes while a request is awaited.
  private isWatching(): boolean {
    return this.phase === "watching";
  }

  start(): void {
    if (this.phase !== "new") return;
    if (this.receipt === null) {
      this.finish("stopped", null);
      return;
    }
    if (isComplete(this.receipt)) {
      this.phase = "done";
      this.render();
      return;
    }
    this.phase = "watching";
    this.giveUpTimer = setTimeout(() => {
      this.giveUpTimer = null;
      this.finish(
        "stopped",
        `Stopped updating after ${String(Math.round(this.giveUpAfterMs / 1000))} s; this is the last state the validators reported.`,
      );
    }, this.giveUpAfterMs);
    this.render();
    void this.poll();
  }

  // The window closed: no more requests, the one in flight is cancelled.
  stop(): void {
    this.finish("closed", null);
  }

  private finish(phase: Phase, problem: string | null): void {
    if (this.phase === "closed") return;
    this.phase = phase;
    this.problem = problem;
    if (this.giveUpTimer !== null) clearTimeout(this.giveUpTimer);
    this.giveUpTimer = null;
    this.inFlight?.abort();
    this.inFlight = null;
    if (this.pause !== null) {
      clearTimeout(this.pause.timer);
      this.pause.end();
      this.pause = null;
    }
    if (phase !== "closed") this.render();
  }

  private async poll(): Promise<void> {
    while (this.isWatching()) {
      const started = Date.now();
      const controller = new AbortController();
      this.inFlight = controller;
      let delay: number;
      try {
        const receipt = await this.api.revocation(
          this.receipt?.href ?? "",
          this.waitSeconds,
          controller.signal,
        );
        if (!this.isWatching()) return;
        this.receipt = receipt;
        this.problem = null;
        if (isComplete(receipt)) {
          this.finish("done", null);
          return;
        }
        this.render();
        delay = Math.max(0, this.minIntervalMs - (Date.now() - started));
      } catch (caught) {
        if (!this.isWatching()) return;
        const error = asApiError(caught);
        if (FINAL_STATUSES.has(error.status)) {
          this.finish("stopped", `Stopped updating: ${shortError(error)}.`);
          return;
        }
        delay = Math.max(
          this.retryDelayMs,
          (error.retryAfterSeconds ?? 0) * 1000,
        );
        this.problem = `Could not update (${shortError(error)}); trying again in ${seconds(delay)}.`;
        this.render();
      } finally {
        if (this.inFlight === controller) this.inFlight = null;
      }
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        this.pause = null;
        resolve();
      };
      this.pause = { timer: setTimeout(end, ms), end };
    });
  }

  private render(): void {
    const receipt = this.receipt;
    // No receipt, and none will come (the server has no view of the validators): no line.
    this.element.hidden = receipt === null && this.phase === "stopped";
    const done = this.phase === "done";
    setText(this.mark, done ? "✓ " : "");
    setText(
      this.headline,
      receipt === null
        ? "Checking which validators deny the old secret…"
        : receiptHeadline(receipt),
    );
    this.element.classList.toggle("revocation-done", done);
    const note =
      this.problem ??
      (this.phase === "watching" && receipt !== null
        ? "Updating as the validators report."
        : "");
    setText(this.note, note);
    this.note.hidden = note === "";
    const lagging = receipt === null || done ? [] : laggingValidators(receipt);
    const current = [...this.lagging.children].map((li) => li.textContent);
    if (!sameTexts(current, lagging)) {
      this.lagging.replaceChildren(
        ...lagging.map((text) => el("li", {}, text)),
      );
    }
    this.lagging.hidden = lagging.length === 0;
  }
}

function sameTexts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, i) => text === b[i]);
}

// Only changes the text when it differs (so the live region announces changes, not repeats).
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

// The receipt line in a window: it follows the receipt until the window closes.
export function watchRevocation(
  modal: { onClose(cleanup: () => void): void },
  options: RevocationStatusOptions,
): RevocationStatus {
  const status = new RevocationStatus(options);
  modal.onClose(() => {
    status.stop();
  });
  status.start();
  return status;
}
