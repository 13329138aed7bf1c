// The CLIs as child processes, output captured: `node --import tsx harness/cli/<name>.ts args`.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..", "..");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  pid: number;
}

const live = new Set<ChildProcess>();

/** Children still running at the end of a file (afterAll): interrupted so they reap their own. */
export function stopLiveClis(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGINT");
}

/**
 * `node --import tsx harness/cli/<name>.ts args` with stdout/stderr captured. `onStart` sees the
 * child (to signal it mid-run); the deadline interrupts a hung run so the test fails instead of hanging.
 */
export function runCli(
  name: "bench" | "check" | "clean" | "gate" | "report" | "kafka" | "serve" | "gateway" | "k6" | "capacity",
  args: string[],
  o: {
    timeoutMs?: number;
    env?: Record<string, string | undefined>;
    onStart?: (c: ChildProcess, out: () => string) => void;
  } = {},
): Promise<CliRun> {
  return new Promise((res) => {
    const t0 = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(o.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(process.execPath, ["--import", "tsx", join("harness", "cli", `${name}.ts`), ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGINT"), o.timeoutMs ?? 120_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      res({ code, signal, stdout, stderr, ms: Date.now() - t0, pid: child.pid! });
    });
    o.onStart?.(child, () => stdout + stderr);
  });
}
