// Every child process the harness starts goes through here: output goes to a file
// (never a pipe that can fill and block), and every child is reaped when the
// harness exits, is interrupted, or dies (a detached watchdog covers SIGKILL).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processStartTime } from "./proc.ts";

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Keep running after the harness exits (e.g. `npm run kafka -- start`). */
  detached?: boolean;
}

export interface Child {
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  exitCode(): number | null | undefined;
  signal(sig: NodeJS.Signals): boolean;
  /** SIGTERM, then SIGKILL after graceMs. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const tracked = new Map<number, { proc: ChildProcess; start: string }>();
const registryFile = join(tmpdir(), `oversell-children-${process.pid}.json`);
let hooksInstalled = false;
let watchdogStarted = false;

function writeRegistry(): void {
  const list = [...tracked.entries()].map(([pid, t]) => ({ pid, start: t.start }));
  try {
    writeFileSync(registryFile, JSON.stringify(list));
  } catch {
    /* best effort: the in-process hooks still reap */
  }
}

export function killAllNow(): void {
  for (const [pid] of tracked) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  tracked.clear();
  writeRegistry();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllNow);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      // Let other handlers (history flush) run first if they exist, then leave.
      killAllNow();
      if (process.listenerCount(sig) <= 1) process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

function startWatchdog(): void {
  if (watchdogStarted || process.env.OVERSELL_NO_WATCHDOG === "1") return;
  watchdogStarted = true;
  const script = join(dirname(fileURLToPath(import.meta.url)), "watchdog.mjs");
  const w = spawn(process.execPath, [script, String(process.pid), registryFile], {
    detached: true,
    stdio: "ignore",
  });
  w.unref();
}

export function spawnChild(command: string, args: string[], opts: SpawnOptions): Child {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, "a");
  let proc: ChildProcess;
  try {
    proc = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", fd, fd],
      detached: true, // own process group: Ctrl-C in the terminal reaches us, we decide
    });
  } finally {
    closeSync(fd);
  }
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`could not start ${command}: not found or not executable`);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    proc.on("exit", (c, sig) => {
      code = c ?? (sig ? -1 : null);
      tracked.delete(pid);
      writeRegistry();
      resolve(code);
    });
    proc.on("error", () => resolve(null));
  });
  if (opts.detached) {
    proc.unref();
  } else {
    installHooks();
    tracked.set(pid, { proc, start: processStartTime(pid) ?? "" });
    writeRegistry();
    startWatchdog();
  }
  const signal = (sig: NodeJS.Signals) => {
    if (code !== undefined) return false;
    try {
      return process.kill(pid, sig);
    } catch {
      return false;
    }
  };
  return {
    pid,
    logFile: opts.logFile,
    exited,
    exitCode: () => code,
    signal,
    async stop(graceMs = 10_000) {
      if (code !== undefined) return;
      signal("SIGCONT"); // a paused process cannot handle SIGTERM
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines a child wrote, for error messages. */
export function tailOfFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}

/** Pids of the children this process still tracks (tests and diagnostics). */
export function trackedPids(): number[] {
  return [...tracked.keys()];
}
