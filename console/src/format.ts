// Text of the table's plain cells.

import type { Vpc } from "./api";

export const NO_VPC = "No VPC network";
export const NEVER_USED = "Never";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export function vpcLabel(vpcUuid: string | null, vpcs: readonly Vpc[]): string {
  if (vpcUuid === null || vpcUuid === "") return NO_VPC;
  const vpc = vpcs.find((v) => v.id === vpcUuid);
  return vpc ? vpc.name : `VPC ${vpcUuid.slice(0, 8)}`;
}

export function formatDate(
  iso: string,
  locale?: string,
  timeZone?: string,
): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "short",
    day: "numeric",
  };
  if (timeZone !== undefined) options.timeZone = timeZone;
  return new Intl.DateTimeFormat(locale ?? "en-US", options).format(date);
}

export function formatDateTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    dateStyle: "medium",
    timeStyle: "short",
  };
  if (timeZone !== undefined) options.timeZone = timeZone;
  return new Intl.DateTimeFormat("en-US", options).format(date);
}

// The instant in UTC, to the minute: "2026-03-05 23:30 UTC".
export function formatUtcMinute(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function plural(n: number, unit: string): string {
  return n === 1 ? `1 ${unit}` : `${String(n)} ${unit}s`;
}

// How long before `now` the instant was, in its largest whole unit: "just now" (under a minute,
// or after `now`, as a clock behind the server's gives), "5 min ago", "3 h ago", "1 day ago",
// "12 days ago" (days however many).
export function formatTimeAgo(iso: string, now: Date): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const elapsed = now.getTime() - at;
  if (elapsed < MINUTE_MS) return "just now";
  if (elapsed < HOUR_MS)
    return `${String(Math.floor(elapsed / MINUTE_MS))} min ago`;
  if (elapsed < DAY_MS) return `${String(Math.floor(elapsed / HOUR_MS))} h ago`;
  return `${plural(Math.floor(elapsed / DAY_MS), "day")} ago`;
}

// The "Last used" cell: "Never", or the time ago with the exact minute in UTC.
export interface LastUsedText {
  text: string;
  // null when never used.
  exact: string | null;
}

export function lastUsedText(
  lastUsedAt: string | null,
  now: Date,
): LastUsedText {
  if (lastUsedAt === null || lastUsedAt === "") {
    return { text: NEVER_USED, exact: null };
  }
  return {
    text: formatTimeAgo(lastUsedAt, now),
    exact: formatUtcMinute(lastUsedAt),
  };
}

// The secret is never shown again; its last four characters tell keys apart.
export function secretHintText(hint: string): string {
  return hint === "" ? "—" : `…${hint}`;
}
