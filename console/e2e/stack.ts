// Starts and stops the real stack the end-to-end suite runs against: `keyledger serve` (the API
// serving the built console, with development sign-in) and `keyledger validator`, on loopback
// ports chosen by the OS, on a topic of their own, with legacy keys imported first.
//
// Environment:
//   KEYLEDGER_BINARY         path of the keyledger binary (required)
//   KEYLEDGER_BOOTSTRAP      Kafka bootstrap host:port (required)
//   KEYLEDGER_CONSOLE_DIST   the built console (default: console/dist)
//   KEYLEDGER_E2E_SERVE_ARGS extra flags for `serve`, split on spaces (optional)

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CONSOLE_DIR = fileURLToPath(new URL("..", import.meta.url));

export interface LegacyKeySeed {
  creatorId: string;
  creatorName: string;
  name: string;
}

export interface StackState {
  apiUrl: string;
  validatorUrl: string;
  validatorAdminUrl: string;
  topic: string;
  runId: string;
  dir: string;
  pids: number[];
  legacyKeys: LegacyKeySeed[];
}

export const STATE_ENV = "KEYLEDGER_E2E_STATE";

export function readState(): StackState {
  const file = process.env[STATE_ENV];
  if (file === undefined || !existsSync(file)) {
    throw new Error(
      `${STATE_ENV} is not set: the stack is started by e2e/global-setup.ts (npm run e2e)`,
    );
  }
  return JSON.parse(readFileSync(file, "utf8")) as StackState;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(
      `${name} must be set for the end-to-end suite (see console/README.md)`,
    );
  }
  return value;
}

function randomSecret(length: number): string {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(length)]
    .map((b) => alphabet[b % alphabet.length] ?? "x")
    .join("");
}

const sleep = (ms: number): Promise<void> =>
  new Promise((done) => setTimeout(done, ms));

interface Started {
  child: ChildProcess;
  log: string;
  exited: boolean;
}

function start(binary: string, args: string[], log: string): Started {
  const out = openSync(log, "a");
  const child = spawn(binary, args, { stdio: ["ignore", out, out] });
  closeSync(out);
  const started: Started = { child, log, exited: false };
  child.on("exit", () => {
    started.exited = true;
  });
  return started;
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitForPortFile(
  file: string,
  proc: Started,
  what: string,
  timeoutMs = 90_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8").trim();
      if (/^\d+$/.test(text)) return Number(text);
    }
    if (proc.exited) {
      throw new Error(`${what} exited before listening:\n${tail(proc.log)}`);
    }
    await sleep(100);
  }
  throw new Error(
    `${what} wrote no port to ${file} within ${String(timeoutMs / 1000)} s:\n${tail(proc.log)}`,
  );
}

// Waits until one of `urls` answers 200.
async function waitForReady(
  urls: string[],
  proc: Started,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    for (const url of urls) {
      try {
        const response = await fetch(url);
        if (response.status === 200) return;
        last = `${url}: ${String(response.status)} ${await response.text()}`;
      } catch (e) {
        last = `${url}: ${String(e)}`;
      }
    }
    if (proc.exited) {
      throw new Error(`${what} exited before it was ready:\n${tail(proc.log)}`);
    }
    await sleep(200);
  }
  throw new Error(
    `${what} was not ready within ${String(timeoutMs / 1000)} s (last: ${last}):\n${tail(proc.log)}`,
  );
}

async function runToEnd(
  binary: string,
  args: string[],
  log: string,
  timeoutMs = 120_000,
): Promise<void> {
  const p = start(binary, args, log);
  const deadline = Date.now() + timeoutMs;
  while (!p.exited && Date.now() < deadline) await sleep(100);
  if (!p.exited) {
    p.child.kill("SIGKILL");
    throw new Error(`keyledger ${args[0] ?? ""} did not finish:\n${tail(log)}`);
  }
  if (p.child.exitCode !== 0) {
    throw new Error(
      `keyledger ${args[0] ?? ""} failed (exit ${String(p.child.exitCode)}):\n${tail(log)}`,
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// SIGTERM, then SIGKILL after `graceMs`.
export async function stopPids(
  pids: number[],
  graceMs = 15_000,
): Promise<void> {
  for (const pid of pids) {
    if (isAlive(pid)) process.kill(pid, "SIGTERM");
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
}

// The legacy keys the suite imports (all models, no VPC; hashes only, so their secrets are
// unknown until a test regenerates them).
export function legacySeeds(runId: string): LegacyKeySeed[] {
  return [
    ["user-mia", "Mia Member", "legacy-mia-regenerate"],
    ["user-mia", "Mia Member", "legacy-mia-delete"],
    ["user-mia", "Mia Member", "legacy-mia-rename"],
    ["user-omar", "Omar Owner", "legacy-omar"],
    ["user-omar", "Omar Owner", "legacy-omar-regenerate"],
    ["user-omar", "Omar Owner", "legacy-omar-delete"],
    ["user-olga", "Olga Owner", "legacy-olga-keyboard"],
  ].map(([creatorId, creatorName, name]) => ({
    creatorId: creatorId ?? "",
    creatorName: creatorName ?? "",
    name: `${name ?? ""}-${runId}`,
  }));
}

export async function startStack(): Promise<StackState> {
  const binary = resolve(required("KEYLEDGER_BINARY"));
  const bootstrap = required("KEYLEDGER_BOOTSTRAP");
  const dist = resolve(
    process.env["KEYLEDGER_CONSOLE_DIST"] ?? join(CONSOLE_DIR, "dist"),
  );
  if (!existsSync(join(dist, "index.html"))) {
    throw new Error(
      `${dist}/index.html is missing: build the console first (npm run build)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "keyledger-console-e2e-"));
  const runId = randomSecret(6).toLowerCase();
  const topic = `keyledger.console-e2e.${runId}.${randomUUID().slice(0, 8)}`;
  const jwtSecret = randomSecret(40);
  const extra = (process.env["KEYLEDGER_E2E_SERVE_ARGS"] ?? "")
    .split(" ")
    .filter(Boolean);
  const serveArgs = (portFile: string): string[] => [
    "serve",
    "--bootstrap",
    bootstrap,
    "--topic",
    topic,
    "--db",
    join(dir, "db"),
    "--listen",
    "127.0.0.1:0",
    "--port-file",
    portFile,
    "--jwt-secret",
    jwtSecret,
    "--console-dir",
    dist,
    "--dev-sign-in",
    ...extra,
  ];
  const pids: number[] = [];
  try {
    // 1. A first serve creates the topic; it is stopped so that the legacy import is the
    //    partitions' only writer (see replay/README.md), then serve starts again.
    const firstPort = join(dir, "api-first.port");
    const first = start(
      binary,
      serveArgs(firstPort),
      join(dir, "api-first.log"),
    );
    pids.push(first.child.pid ?? -1);
    const port1 = await waitForPortFile(firstPort, first, "keyledger serve");
    await waitForReady(
      [`http://127.0.0.1:${String(port1)}/readyz`],
      first,
      "keyledger serve",
    );
    await stopPids(pids.splice(0));

    const legacyKeys = legacySeeds(runId);
    const legacyFile = join(dir, "legacy.jsonl");
    writeFileSync(
      legacyFile,
      legacyKeys
        .map((seed, i) =>
          JSON.stringify({
            team_id: "team-acme",
            creator_id: seed.creatorId,
            creator_name: seed.creatorName,
            name: seed.name,
            created_at: new Date(
              Date.UTC(2024, 0, 10 + i, 9, 30),
            ).toISOString(),
            secret_sha256: randomBytes(32).toString("hex"),
            secret_hint: randomSecret(4),
          }),
        )
        .join("\n") + "\n",
    );
    await runToEnd(
      binary,
      [
        "import-legacy",
        "--offline",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        legacyFile,
      ],
      join(dir, "import-legacy.log"),
    );

    // 2. The API and a validator.
    const apiPortFile = join(dir, "api.port");
    const api = start(binary, serveArgs(apiPortFile), join(dir, "api.log"));
    pids.push(api.child.pid ?? -1);
    const validatorPortFile = join(dir, "validator.port");
    const adminPortFile = join(dir, "validator-admin.port");
    const validator = start(
      binary,
      [
        "validator",
        "--bootstrap",
        bootstrap,
        "--topic",
        topic,
        "--listen",
        "127.0.0.1:0",
        "--port-file",
        validatorPortFile,
        "--admin-listen",
        "127.0.0.1:0",
        "--admin-port-file",
        adminPortFile,
      ],
      join(dir, "validator.log"),
    );
    pids.push(validator.child.pid ?? -1);
    const apiPort = await waitForPortFile(apiPortFile, api, "keyledger serve");
    const validatorPort = await waitForPortFile(
      validatorPortFile,
      validator,
      "keyledger validator",
    );
    const adminPort = await waitForPortFile(
      adminPortFile,
      validator,
      "keyledger validator (admin)",
    );
    const apiUrl = `http://127.0.0.1:${String(apiPort)}`;
    await waitForReady([`${apiUrl}/readyz`], api, "keyledger serve");
    const validatorUrl = `http://127.0.0.1:${String(validatorPort)}`;
    const validatorAdminUrl = `http://127.0.0.1:${String(adminPort)}`;
    // The validator fails closed until it has read the log to its end.
    await waitForReady(
      [`${validatorAdminUrl}/readyz`, `${validatorUrl}/readyz`],
      validator,
      "keyledger validator",
    );
    const state: StackState = {
      apiUrl,
      validatorUrl,
      validatorAdminUrl,
      topic,
      runId,
      dir,
      pids,
      legacyKeys,
    };
    const stateFile = join(dir, "state.json");
    writeFileSync(stateFile, JSON.stringify(state, null, 2));
    process.env[STATE_ENV] = stateFile;
    return state;
  } catch (e) {
    await stopPids(pids);
    throw e;
  }
}
