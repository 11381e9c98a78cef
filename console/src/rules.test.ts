import { describe, expect, it } from "vitest";
import {
  canManageKey,
  confirmationMatches,
  keyNameProblem,
  normalizeKeyName,
  tabsFor,
} from "./rules";
import { MIA, OLGA, makeKey } from "./testing/fake_api";

describe("tabs by role", () => {
  it("owner sees the Team's keys tab", () => {
    expect(tabsFor(OLGA).map((t) => t.label)).toEqual([
      "My keys",
      "Legacy keys",
      "Team's keys",
    ]);
  });

  it("member sees only My keys and Legacy keys", () => {
    const labels = tabsFor(MIA).map((t) => t.label);
    expect(labels).toEqual(["My keys", "Legacy keys"]);
    expect(tabsFor(MIA).map((t) => t.view)).not.toContain("team");
  });
});

describe("who may rename, regenerate and delete", () => {
  const byMia = makeKey({ created_by: MIA.user_id });
  const byOlga = makeKey({ created_by: OLGA.user_id });
  const legacyByMia = makeKey({ created_by: MIA.user_id, legacy: true });
  const legacyByOmar = makeKey({ created_by: "user-omar", legacy: true });

  it("owner may manage any key of the team", () => {
    for (const key of [byMia, byOlga, legacyByMia, legacyByOmar]) {
      expect(canManageKey(OLGA, key)).toBe(true);
    }
  });

  it("member may manage the keys they created", () => {
    expect(canManageKey(MIA, byMia)).toBe(true);
  });

  it("member may manage legacy keys they created", () => {
    expect(canManageKey(MIA, legacyByMia)).toBe(true);
  });

  it("member may not manage another member's keys, legacy or not", () => {
    expect(canManageKey(MIA, byOlga)).toBe(false);
    expect(canManageKey(MIA, legacyByOmar)).toBe(false);
  });
});

describe("type-the-name confirmation", () => {
  it("matches only the exact name", () => {
    expect(confirmationMatches("prod-key", "prod-key")).toBe(true);
  });

  it("does not match another case, extra spaces or a prefix", () => {
    expect(confirmationMatches("Prod-key", "prod-key")).toBe(false);
    expect(confirmationMatches("prod-key ", "prod-key")).toBe(false);
    expect(confirmationMatches(" prod-key", "prod-key")).toBe(false);
    expect(confirmationMatches("prod", "prod-key")).toBe(false);
    expect(confirmationMatches("", "prod-key")).toBe(false);
  });
});

describe("key names", () => {
  it("accepts a name of 128 characters, counted as characters not bytes", () => {
    expect(keyNameProblem("é".repeat(128))).toBeNull();
    expect(keyNameProblem("🔑".repeat(128))).toBeNull();
  });

  it("refuses an empty name, a name of spaces and a name over 128 characters", () => {
    expect(keyNameProblem("")).toMatch(/Enter a name/);
    expect(keyNameProblem("   ")).toMatch(/Enter a name/);
    expect(keyNameProblem("x".repeat(129))).toMatch(/129 characters/);
  });

  it("refuses control and invisible characters", () => {
    expect(keyNameProblem("a\tb")).toMatch(/control/);
    expect(keyNameProblem("a\u200bb")).toMatch(/invisible/);
    expect(keyNameProblem("a\u202eb")).toMatch(/invisible/);
  });

  it("trims surrounding spaces the way the server stores the name", () => {
    expect(normalizeKeyName("  my key  ")).toBe("my key");
  });
});
