// Helpers for the bad-input tests: the CLIs as child processes (output captured), processes of a run
// found in /proc, and what a SUT decided per kind of mixed-in order.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { collectDecisions } from "../../harness/checker/index.ts";
import { readHistory, sutHistory } from "../../harness/history/read.ts";
import type { SentEvent } from "../../harness/history/events.ts";

export { ROOT, runCli, stopLiveClis, type CliRun } from "../support/cli.ts";

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
    if (environ.some((e) => e.startsWith(`OVERSELL_NS=oversell.${runId}.`)))
      out.push({ pid: Number(pid), what: `SUT ${cmdline.slice(0, 120)}` });
    else if (benchPid && cmdline.includes(`oversell-kafka-${benchPid}-`))
      out.push({ pid: Number(pid), what: `JVM ${cmdline.slice(0, 120)}` });
    else if (benchPid && cmdline.includes(`watchdog.mjs ${benchPid} `))
      out.push({ pid: Number(pid), what: "watchdog" });
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
export async function outcomesByKind(
  connection: Connection,
  runDir: string,
  sut: string,
  confirms: boolean,
): Promise<KindOutcome[]> {
  const { events } = readHistory(join(runDir, "history.ndjson"));
  const h = sutHistory(events, sut)!;
  const sent = events.filter((e): e is SentEvent => e.type === "sent" && e.sut === sut);
  const res = await collectDecisions({
    connection,
    ns: h.start.ns,
    confirms,
    orders: h.orders,
    deadlineMs: Date.now() + 20_000,
  });
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
