// One Idempotency-Key per attempted command of a window: a retry of the same request after a
// failure that did nothing (503, 429, no answer) reuses it, so the server never does it twice;
// a changed request, or a retry after a definite refusal, gets a new one.

import { isRetryableWithSameKey } from "./errors";

export type RandomUuid = () => string;

export function randomUuid(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === "function") return c.randomUUID();
  // crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  const bytes = c.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class IdempotencyKeys {
  private current: { key: string; request: string; reusable: boolean } | null =
    null;

  constructor(private readonly newKey: RandomUuid = randomUuid) {}

  // The key to send with `request` (any JSON-serialisable description of it).
  keyFor(request: unknown): string {
    const fingerprint = JSON.stringify(request);
    if (
      this.current !== null &&
      this.current.reusable &&
      this.current.request === fingerprint
    ) {
      return this.current.key;
    }
    this.current = { key: this.newKey(), request: fingerprint, reusable: true };
    return this.current.key;
  }

  // Records how the last attempt ended.
  failed(error: unknown): void {
    if (this.current !== null)
      this.current.reusable = isRetryableWithSameKey(error);
  }

  succeeded(): void {
    this.current = null;
  }
}
