import { existsSync } from "node:fs";
import { STATE_ENV, readState, stopPids } from "./stack";

export default async function globalTeardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (file === undefined || !existsSync(file)) return;
  await stopPids(readState().pids);
}
