// Helpers for the bad-input tests: the CLIs as child processes (output captured), processes of a run
// found in /proc, and what a SUT decided per kind of mixed-in order.
import "../../systems-under-test/contract/kafkajs-read-committed.ts"; // before anything loads kafkajs (read_committed fix)
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { collectDecisions } from "../../harness/checker/index.ts";
import { readHistory, sutHistory } from "../../harness/history/read.ts";
import type { SentEvent } from "../../harness/history/events.ts";

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
  name: "bench" | "check" | "clean",
  args: string[],
  o: { timeoutMs?: number; env?: Record<string, string | undefined>; onStart?: (c: ChildProcess, out: () => string) => void } = {},
): Promise<CliRun> {
  return new Promise((res) => {
    const t0 = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(o.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(process.execPath, ["--import", "tsx", join("harness", "cli", `${name}.ts`), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGINT"), o.timeoutMs ?? 120_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      res({ code, signal, stdout, stderr, ms: Date.now() - t0, pid: child.pid! });
    });
    o.onStart?.(child, () => stdout + stderr);
  });
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return "";
  }
}

/**
 * Live processes of a run: SUT instances carry OVERSELL_NS=oversell.<runId>.* in their environment;
 * the embedded broker's JVM has the bench's pid in its work folder (oversell-kafka-<pid>-...), and
 * the reaping watchdog has it as its first argument.
 * Only our own processes are readable, so nobody else's processes are ever looked at closely.
 */
export function runProcesses(runId: string, benchPid?: number): { pid: number; what: string }[] {
  const out: { pid: number; what: string }[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    const stat = readProc(pid, "stat");
    if (!stat || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue; // gone or a zombie
    const environ = readProc(pid, "environ").split("\0");
    const cmdline = readProc(pid, "cmdline").split("\0").join(" ");
    if (environ.some((e) => e.startsWith(`OVERSELL_NS=oversell.${runId}.`))) out.push({ pid: Number(pid), what: `SUT ${cmdline.slice(0, 120)}` });
    else if (benchPid && cmdline.includes(`oversell-kafka-${benchPid}-`)) out.push({ pid: Number(pid), what: `JVM ${cmdline.slice(0, 120)}` });
    else if (benchPid && cmdline.includes(`watchdog.mjs ${benchPid} `)) out.push({ pid: Number(pid), what: "watchdog" });
  }
  return out;
}

export interface KindOutcome {
  sut: string;
  kind: string;
  sent: number;
  /** e.g. {"OrderRejected INVALID": 3, "OrderReserved": 1, "none": 0} */
  outcomes: Record<string, number>;
}

/** What each kind of order got from one SUT: decisions read back (read_committed) for the history's sent orders. */
export async function outcomesByKind(connection: Connection, runDir: string, sut: string, confirms: boolean): Promise<KindOutcome[]> {
  const { events } = readHistory(join(runDir, "history.ndjson"));
  const h = sutHistory(events, sut)!;
  const sent = events.filter((e): e is SentEvent => e.type === "sent" && e.sut === sut);
  const res = await collectDecisions({ connection, ns: h.start.ns, confirms, orders: h.orders, deadlineMs: Date.now() + 20_000 });
  const byOrder = new Map<string, string[]>();
  for (const d of res.decisions) {
    const e = d.event;
    const label = e.type === "OrderRejected" ? `${e.type} ${e.reason}` : e.type;
    byOrder.set(e.orderId, [...(byOrder.get(e.orderId) ?? []), label]);
  }
  const kinds = new Map<string, KindOutcome>();
  const seen = new Set<string>();
  for (const s of sent) {
    const k = kinds.get(s.kind) ?? { sut, kind: s.kind, sent: 0, outcomes: {} };
    kinds.set(s.kind, k);
    k.sent++;
    // A retry shares its orderId with the original: its outcome is the (single) decision of that id.
    const key = s.kind === "retry" ? `${s.orderId}#retry` : s.orderId;
    if (seen.has(key)) continue;
    seen.add(key);
    const ds = byOrder.get(s.orderId) ?? [];
    const label = ds.length === 0 ? "none" : ds.join(" + ");
    k.outcomes[label] = (k.outcomes[label] ?? 0) + 1;
  }
  return [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}
