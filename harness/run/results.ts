// From the checker's Evaluation (or a SUT that never ran) to the SutResult of result.json,
// and the run's verdict from the SUTs'.
import { ALL_CHECKS, type Evaluation } from "../checker/index.ts";
import type { SutResult } from "../report/result-schema.ts";
import { matchesExpectation } from "../report/summary.ts";
import type { Invariant } from "../checker/types.ts";

/** What a result says about the SUT: from its sut.json, or from the history's sut-start line. */
export interface SutIdentity {
  name: string;
  description: string;
  confirms: boolean;
  claims: readonly Invariant[];
  expectedViolations: readonly Invariant[];
}

export interface SutBase {
  sut: SutIdentity;
  ns: string;
  instances: number;
  startedAtMs: number;
}

function base(
  b: SutBase,
): Pick<
  SutResult,
  | "name"
  | "namespace"
  | "instances"
  | "claims"
  | "expectedViolations"
  | "description"
  | "confirms"
  | "expected"
  | "startedAtMs"
  | "durationMs"
> {
  const m = b.sut;
  return {
    name: m.name,
    namespace: b.ns,
    instances: b.instances,
    claims: [...m.claims],
    expectedViolations: [...m.expectedViolations],
    description: m.description,
    confirms: m.confirms,
    expected: m.expectedViolations.length > 0 ? "fail" : "pass",
    startedAtMs: b.startedAtMs,
    durationMs: Date.now() - b.startedAtMs,
  };
}

const ZERO = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0 };

/** A SUT that could not be run or judged: verdict unknown, with the reason. */
export function unknownResult(b: SutBase, reason: string, extra: Partial<SutResult> = {}): SutResult {
  const r: SutResult = {
    ...base(b),
    verdict: "unknown",
    verdictReason: reason,
    violations: Object.fromEntries(ALL_CHECKS.map((c) => [c, { count: 0, examples: [] }])),
    orders: { sent: 0, acked: 0, decided: 0, reserved: 0, confirmed: 0, rejected: 0 },
    latencyUs: { decision: { ...ZERO }, ack: { ...ZERO }, sendDelay: { ...ZERO } },
    throughput: { offeredPerSec: 0, decidedPerSec: 0 },
    faults: [],
    ...extra,
  };
  r.matchesExpectation = false;
  return r;
}

export function evaluatedResult(b: SutBase, ev: Evaluation, extra: Partial<SutResult> = {}): SutResult {
  const { reserve: _reserve, ...latencyUs } = ev.latencyUs;
  const r: SutResult = {
    ...base(b),
    expected: ev.expected,
    verdict: ev.verdict,
    verdictReason: ev.verdictReason,
    violations: ev.violations,
    orders: ev.orders,
    units: ev.units,
    products: ev.products,
    latencyUs,
    throughput: ev.throughput,
    series: ev.series,
    ...(ev.seriesStartMs !== undefined ? { seriesStartMs: ev.seriesStartMs } : {}),
    ...(ev.seriesBucketMs !== undefined && ev.seriesBucketMs !== 1000 ? { seriesBucketMs: ev.seriesBucketMs } : {}),
    poison: ev.poison,
    inTime: ev.inTime,
    faults: [],
    missingExpected: ev.missingExpected,
    ...extra,
  };
  r.matchesExpectation = matchesExpectation(r);
  if (r.verdict !== "unknown" && !r.matchesExpectation && !r.verdictReason) {
    r.verdictReason =
      r.verdict !== r.expected
        ? `verdict ${r.verdict}, expected ${r.expected}`
        : `expected violation(s) not caught: ${(ev.missingExpected ?? []).join(", ")}`;
  }
  return r;
}

/** pass: every SUT matched its expectation; unknown: one could not be judged; fail otherwise. */
export function runVerdict(suts: SutResult[]): "pass" | "fail" | "unknown" {
  if (suts.length === 0) return "unknown";
  if (suts.some((s) => s.verdict === "unknown")) return "unknown";
  return suts.every((s) => matchesExpectation(s)) ? "pass" : "fail";
}

export function exitCodeFor(verdict: "pass" | "fail" | "unknown"): number {
  return verdict === "pass" ? 0 : verdict === "fail" ? 1 : 2;
}
