// Text of the table's plain cells.

import type { Vpc } from "./api";

export const NO_VPC = "No VPC network";

export function vpcLabel(vpcUuid: string | null, vpcs: readonly Vpc[]): string {
  if (vpcUuid === null || vpcUuid === "") return NO_VPC;
  const vpc = vpcs.find((v) => v.id === vpcUuid);
  return vpc ? vpc.name : `VPC ${vpcUuid.slice(0, 8)}`;
}

export function formatCreatedDate(
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

export function formatCreatedTime(iso: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    dateStyle: "medium",
    timeStyle: "short",
  };
  if (timeZone !== undefined) options.timeZone = timeZone;
  return new Intl.DateTimeFormat("en-US", options).format(date);
}

// The secret is never shown again; its last four characters tell keys apart.
export function secretHintText(hint: string): string {
  return hint === "" ? "—" : `…${hint}`;
}
