// Key expiry: what the table says about a key's expiry (nothing, the date, an "Expires in N
// days" badge within EXPIRY_WARNING_DAYS, or "Expired"), and the lifetimes the create window
// offers.

import type { ApiKeyInfo } from "./api";
import { DAY_MS } from "./format";

// A key that expires within this many days (inclusive) carries an "Expires in N days" badge.
export const EXPIRY_WARNING_DAYS = 30;
export const EXPIRED = "Expired";
export const EXPIRES_WITHIN_A_DAY = "Expires in less than a day";

export type KeyExpiry =
  | { kind: "never" }
  // `at` is null only when the server says expired without an expires_at.
  | { kind: "expired"; at: string | null }
  // `badge` is null when the key expires later than EXPIRY_WARNING_DAYS from now.
  | { kind: "expires"; at: string; badge: string | null };

// Expired when the server says so or when expires_at is not after `now` (the server's flag is
// from when the list was read; `now` may be later).
export function keyExpiry(
  key: Pick<ApiKeyInfo, "expires_at" | "expired">,
  now: Date,
): KeyExpiry {
  if (key.expired) return { kind: "expired", at: key.expires_at };
  if (key.expires_at === null || key.expires_at === "")
    return { kind: "never" };
  const at = Date.parse(key.expires_at);
  if (Number.isNaN(at))
    return { kind: "expires", at: key.expires_at, badge: null };
  const remaining = at - now.getTime();
  if (remaining <= 0) return { kind: "expired", at: key.expires_at };
  return {
    kind: "expires",
    at: key.expires_at,
    badge: expiresInText(remaining),
  };
}

// The badge of a key `remainingMs` (> 0) from expiring: "Expires in N days" with N the remaining
// days rounded up, "Expires in less than a day" under 24 h; null beyond EXPIRY_WARNING_DAYS.
export function expiresInText(remainingMs: number): string | null {
  if (remainingMs > EXPIRY_WARNING_DAYS * DAY_MS) return null;
  if (remainingMs < DAY_MS) return EXPIRES_WITHIN_A_DAY;
  const days = Math.ceil(remainingMs / DAY_MS);
  return days === 1 ? "Expires in 1 day" : `Expires in ${String(days)} days`;
}

// The create window's "Expires" choices; `days` null is Never (no expires_at sent). A year is
// 365 days.
export interface LifetimeChoice {
  label: string;
  days: number | null;
}

export const LIFETIME_CHOICES: readonly LifetimeChoice[] = [
  { label: "Never", days: null },
  { label: "7 days", days: 7 },
  { label: "30 days", days: 30 },
  { label: "90 days", days: 90 },
  { label: "1 year", days: 365 },
];

// The expires_at of a key created at `now` to live `days` days (RFC 3339, UTC).
export function expiresAtAfter(days: number, now: Date): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString();
}
