// The product rules the page applies before asking the API, so it never offers what the API
// would refuse for a reason the page can know (SPEC section 1).

import type { ApiKeyInfo, KeyView, SignedInUser } from "./api";

export interface TabSpec {
  view: KeyView;
  label: string;
}

const MY_KEYS: TabSpec = { view: "mine", label: "My keys" };
const LEGACY_KEYS: TabSpec = { view: "legacy", label: "Legacy keys" };
const TEAMS_KEYS: TabSpec = { view: "team", label: "Team's keys" };

// Owners see all three views; everyone else only My keys and Legacy keys.
export function tabsFor(user: Pick<SignedInUser, "role">): TabSpec[] {
  return user.role === "owner"
    ? [MY_KEYS, LEGACY_KEYS, TEAMS_KEYS]
    : [MY_KEYS, LEGACY_KEYS];
}

// Owners may rename, regenerate and delete any key of their team (every key the API lists
// them is their team's); other members only the keys they created, legacy ones included.
export function canManageKey(
  user: Pick<SignedInUser, "role" | "user_id">,
  key: Pick<ApiKeyInfo, "created_by">,
): boolean {
  return user.role === "owner" || key.created_by === user.user_id;
}

// Regenerate and delete are confirmed by typing the key's name exactly.
export function confirmationMatches(typed: string, keyName: string): boolean {
  return typed === keyName;
}

export const MAX_KEY_NAME_LENGTH = 128;

function isControlOrInvisible(codePoint: number): boolean {
  return (
    codePoint < 0x20 ||
    codePoint === 0x7f ||
    (codePoint >= 0x80 && codePoint <= 0x9f) ||
    (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0x2028 && codePoint <= 0x202e) ||
    (codePoint >= 0x2060 && codePoint <= 0x206f) ||
    codePoint === 0xfeff ||
    (codePoint >= 0xfff9 && codePoint <= 0xfffb)
  );
}

// The name as the server will store it (surrounding spaces trimmed).
export function normalizeKeyName(raw: string): string {
  return raw.replace(/^ +| +$/g, "");
}

// Why the server would refuse this key name, or null when it is acceptable.
export function keyNameProblem(raw: string): string | null {
  const name = normalizeKeyName(raw);
  if (name === "") return "Enter a name for the key.";
  let count = 0;
  for (const char of name) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (isControlOrInvisible(codePoint)) {
      return "The name must not contain control or invisible formatting characters.";
    }
    count += 1;
  }
  if (count > MAX_KEY_NAME_LENGTH) {
    return `The name has ${String(count)} characters; at most ${String(MAX_KEY_NAME_LENGTH)} are allowed.`;
  }
  return null;
}
