// The terminal summary: one row per SUT — verdict vs expected, units sold vs stock, every
// violation count, decision latency percentiles (ms, from the intended send time) and throughput.
import { INVARIANTS, type Invariant } from "../checker/types.ts";
import { textSection, textTable } from "../shared/text-table.ts";
import type { RunResult, SutResult } from "./result-schema.ts";

/** One column per invariant a SUT can claim (aborted-read is info, not a column). */
const COLS = INVARIANTS;
/** Typed by the invariant list, so a new invariant cannot be left without a column title. */
const SHORT: Record<Invariant, string> = {
  oversell: "over",
  "oversell-in-time": "in-time",
  duplicate: "dup",
  conflict: "confl",
  lost: "lost",
  phantom: "phant",
  "false-rejection": "f-rej",
  stuck: "stuck",
  "invalid-accepted": "inv-ok",
};

function ms(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us) || us <= 0) return "-";
  const v = us / 1000;
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

function rate(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n < 10 ? n.toFixed(1) : String(Math.round(n));
}

export function matchesExpectation(s: SutResult): boolean {
  if (s.verdict !== s.expected) return false;
  // Expected to fail: the expected violations must be the ones caught.
  return (s.expectedViolations ?? []).every((v) => (s.violations[v]?.count ?? 0) > 0);
}

function row(s: SutResult): string[] {
  const judged = new Set([...s.claims, ...(s.expectedViolations ?? [])]);
  const ok = s.verdict === "unknown" ? "?" : matchesExpectation(s) ? "ok" : "MISMATCH";
  const counts = COLS.map((c) => {
    const n = s.violations[c]?.count ?? 0;
    if (s.verdict === "unknown" && n === 0) return "-";
    // Counts of invariants the SUT does not claim are shown in parentheses: information, not a verdict.
    return judged.has(c) || n === 0 ? String(n) : `(${n})`;
  });
  const d = s.latencyUs.decision;
  return [
    s.name,
    s.verdict,
    s.expected,
    ok,
    s.units ? `${s.units.sold}/${s.units.stock}` : "-",
    ...counts,
    ms(d.p50),
    ms(d.p99),
    ms(d.p999),
    `${rate(s.throughput.offeredPerSec)}/${rate(s.throughput.decidedPerSec)}`,
    `${s.orders.decided}/${s.orders.acked}`,
  ];
}

export function renderSummary(r: RunResult): string {
  const header = [
    "SUT",
    "verdict",
    "expected",
    "match",
    "sold/stock",
    ...COLS.map((c) => SHORT[c]),
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "offered/decided per s",
    "decided/acked",
  ];
  const reasons = r.suts.filter((s) => s.verdictReason).map((s) => `  ${s.name}: ${s.verdictReason}`);
  const title =
    `oversell ${r.runId} — scenario ${r.scenario.name}, seed ${r.seed}, ${kafkaName(r.kafka)} ` +
    `(${r.kafka.embedded ? "embedded" : "external"}, ${r.kafka.brokers} broker${r.kafka.brokers === 1 ? "" : "s"})`;
  const warmupMs = (r.scenario as { warmupMs?: unknown }).warmupMs;
  const legend =
    "latency: decision − intended send (open loop); (n): violations of an invariant the SUT does not claim" +
    (typeof warmupMs === "number" && warmupMs > 0
      ? `; latency and per-second figures leave out orders of the first ${warmupMs / 1000} s (warm-up)`
      : "");
  return [
    title,
    "",
    ...textTable(header, r.suts.map(row)),
    "",
    ...textSection("http client decision latency (GET /orders/:id answered − intended send):", httpLines(r)),
    ...textSection("poison pills (invalid orders in the stream):", poisonLines(r)),
    ...textSection("load (the harness, not the SUT, limited the rate):", boundLines(r)),
    ...textSection(
      "Kafka client of the SUT instances:",
      r.suts.filter((s) => s.client).map((s) => `  ${s.name}: ${s.client!.name} ${s.client!.version}`),
    ),
    ...textSection(
      "latency measured from (orders read from the topic):",
      r.suts.filter((s) => s.latencyFrom).map((s) => `  ${s.name}: ${latencyFromText(s.latencyFrom!)}`),
    ),
    ...textSection(
      "cross-check (a second reader of the committed decisions):",
      r.suts.filter((s) => s.crossCheck).map(crossCheckLine),
    ),
    ...textSection("notes:", reasons),
    legend,
    `run verdict: ${r.verdict.toUpperCase()}`,
  ].join("\n");
}

/** --driver http: the decision as the client saw it (long poll on the gateway), beside the checker's. */
function httpLines(r: RunResult): string[] {
  return r.suts
    .filter((s) => s.latencyUs.httpDecision)
    .map((s) => {
      const h = s.latencyUs.httpDecision!;
      const p = s.httpPolls;
      const polls = p ? ` (${p.decided}/${p.polled} answered${p.timedOut ? `, ${p.timedOut} timed out` : ""})` : "";
      return `  ${s.name}: p50 ${ms(h.p50)} ms, p99 ${ms(h.p99)} ms, p99.9 ${ms(h.p999)} ms${polls}`;
    });
}

/** Poison pills in the stream: did valid orders suffer (undecided, or slower right behind a bad record)? */
function poisonLines(r: RunResult): string[] {
  return r.suts
    .filter((s) => s.poison && s.poison.invalid > 0)
    .map((s) => {
      const p = s.poison!;
      return (
        `  ${s.name}: ${p.invalid} invalid, ${p.validUndecided} valid undecided; decision p50/p99 right behind one ` +
        `${ms(p.afterPoison.p50)}/${ms(p.afterPoison.p99)} ms (${p.afterPoison.count ?? 0}), ` +
        `other valid ${ms(p.otherValid.p50)}/${ms(p.otherValid.p99)} ms (${p.otherValid.count ?? 0})`
      );
    });
}

function boundLines(r: RunResult): string[] {
  return r.suts
    .filter((s) => s.throughput.harnessBound)
    .map(
      (s) =>
        `  ${s.name}: harness-bound — ${s.throughput.harnessBoundReason ?? "the load driver fell behind its schedule"}`,
    );
}

/** A second reader's word, one line: agreement, or the harness error. */
export function crossCheckLine(s: SutResult): string {
  const c = s.crossCheck!;
  if (c.error) return `  ${s.name}: HARNESS ERROR — ${c.reader} could not check: ${c.error}`;
  const parts = `${c.records} committed records on ${c.partitions.length} partition(s)`;
  if (c.agreed) return `  ${s.name}: agrees (${c.reader}), ${parts}`;
  const e = c.examples[0];
  const first = e ? `; first: partition ${e.partition} offset ${e.offset}: ${e.kind}, ${e.detail}` : "";
  return `  ${s.name}: HARNESS ERROR — ${c.reader} disagrees on ${c.differences} record(s) of ${parts}${first}`;
}

/** Where decision latency starts for orders read from the topic (check --from-topics --ns). */
export function latencyFromText(f: { intended: number; recordTimestamp: number }): string {
  return (
    `${f.intended} order(s) from the intended send time their producer stated (intendedAtMs), ` +
    `${f.recordTimestamp} from the record timestamp (no intendedAtMs: the producer's send, not its schedule)`
  );
}

/** An external cluster does not tell its version over the protocol kafkajs speaks: it is named by its address. */
export function kafkaName(k: RunResult["kafka"]): string {
  if (k.version) return `Kafka ${k.version}`;
  return k.embedded ? "Kafka (version not recorded)" : `Kafka at ${k.bootstrap}`;
}
