import { describe, expect, it } from "vitest";
import {
  LIFETIME_CHOICES,
  expiresAtAfter,
  expiresInText,
  keyExpiry,
} from "./expiry";
import { DAY_MS } from "./format";

const now = new Date("2026-03-05T12:00:00Z");

// A key that expires `ms` after `now`, as the server lists it before it expires.
function expiringIn(ms: number) {
  return {
    expires_at: new Date(now.getTime() + ms).toISOString(),
    expired: false,
  };
}

describe("a key's expiry in the table", () => {
  it("a key that never expires shows nothing", () => {
    expect(keyExpiry({ expires_at: null, expired: false }, now)).toEqual({
      kind: "never",
    });
  });

  it("a key the server says has expired is Expired", () => {
    expect(
      keyExpiry({ expires_at: "2026-03-01T00:00:00Z", expired: true }, now),
    ).toEqual({ kind: "expired", at: "2026-03-01T00:00:00Z" });
  });

  it("a key whose expiry has passed since the list was read is Expired", () => {
    expect(keyExpiry(expiringIn(-1), now).kind).toBe("expired");
  });

  it("a key that expires exactly now is Expired", () => {
    expect(keyExpiry(expiringIn(0), now).kind).toBe("expired");
  });

  it("a key that expires in exactly 30 days says Expires in 30 days", () => {
    const key = expiringIn(30 * DAY_MS);
    expect(keyExpiry(key, now)).toEqual({
      kind: "expires",
      at: key.expires_at,
      badge: "Expires in 30 days",
    });
  });

  it("a key that expires later than 30 days shows its date without a badge", () => {
    const key = expiringIn(30 * DAY_MS + 1);
    expect(keyExpiry(key, now)).toEqual({
      kind: "expires",
      at: key.expires_at,
      badge: null,
    });
    expect(keyExpiry(expiringIn(365 * DAY_MS), now)).toMatchObject({
      badge: null,
    });
  });

  it("counts the days left rounded up", () => {
    expect(expiresInText(30 * DAY_MS - 1)).toBe("Expires in 30 days");
    expect(expiresInText(29 * DAY_MS + 1)).toBe("Expires in 30 days");
    expect(expiresInText(29 * DAY_MS)).toBe("Expires in 29 days");
    expect(expiresInText(DAY_MS + 1)).toBe("Expires in 2 days");
    expect(expiresInText(DAY_MS)).toBe("Expires in 1 day");
  });

  it("under a day left says less than a day", () => {
    expect(expiresInText(DAY_MS - 1)).toBe("Expires in less than a day");
    expect(keyExpiry(expiringIn(60_000), now)).toMatchObject({
      badge: "Expires in less than a day",
    });
  });

  it("an expiry it cannot read is shown without a badge", () => {
    expect(keyExpiry({ expires_at: "soon", expired: false }, now)).toEqual({
      kind: "expires",
      at: "soon",
      badge: null,
    });
  });
});

describe("the lifetimes a new key can have", () => {
  it("are Never, 7 days, 30 days, 90 days and 1 year, Never first", () => {
    expect(LIFETIME_CHOICES).toEqual([
      { label: "Never", days: null },
      { label: "7 days", days: 7 },
      { label: "30 days", days: 30 },
      { label: "90 days", days: 90 },
      { label: "1 year", days: 365 },
    ]);
  });

  it("a lifetime ends that many days of 24 h after now, in UTC", () => {
    expect(expiresAtAfter(30, now)).toBe("2026-04-04T12:00:00.000Z");
    expect(expiresAtAfter(365, now)).toBe("2027-03-05T12:00:00.000Z");
  });

  it("a key created with 30 days left says Expires in 30 days", () => {
    const key = { expires_at: expiresAtAfter(30, now), expired: false };
    expect(keyExpiry(key, now)).toMatchObject({ badge: "Expires in 30 days" });
    // A moment later, as when the table is drawn after the create.
    expect(keyExpiry(key, new Date(now.getTime() + 5_000))).toMatchObject({
      badge: "Expires in 30 days",
    });
  });
});
