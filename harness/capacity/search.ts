// The search for a SUT's knee, as pure functions over the steps run so far: raise the open-loop rate by a factor
// while steps are sustained, then bisect between the highest sustained rate and the lowest rate above it that
// was not. A harness-bound step bounds the search from above without counting against the SUT.
import { HARNESS_BOUND_MS } from "../load/harness-bound.ts";
import type { SutResult } from "../report/result-schema.ts";
import type { CapacityStep, SutCapacity } from "./schema.ts";

export interface SearchPlan {
  fromPerSec: number;
  maxPerSec: number;
  /** Ramp factor between steps (2: 500, 1000, 2000, ...). */
  factor: number;
  /** Bisection stops when the bracket hi/lo is within 1 + resolution. */
  resolution: number;
  /** Most bisection steps (quick runs take fewer). */
  maxBisect: number;
}

export interface Probe {
  offeredPerSec: number;
  sustained: boolean;
  harnessBound: boolean;
}

/** Rates are rounded so bisection lands on readable figures (2 significant digits, at least 10/s). */
export function roundRate(r: number): number {
  if (r < 10) return 10;
  const unit = 10 ** Math.max(1, Math.floor(Math.log10(r)) - 1);
  return Math.round(r / unit) * unit;
}

/** The highest sustained rate, and the lowest rate above it that was not (undefined while none). */
export function bracket(probes: readonly Probe[]): { lo: number; hi?: Probe } {
  const lo = Math.max(0, ...probes.filter((p) => p.sustained).map((p) => p.offeredPerSec));
  const above = probes.filter((p) => !p.sustained && p.offeredPerSec > lo);
  const hi = above.sort((a, b) => a.offeredPerSec - b.offeredPerSec)[0];
  return { lo, hi };
}

/** The next rate to try, or undefined when the knee is found (or the plan's bounds are reached). */
export function nextRate(
  probes: readonly Probe[],
  plan: SearchPlan,
): { rate: number; phase: CapacityStep["phase"] } | undefined {
  if (probes.length === 0) return { rate: Math.min(plan.fromPerSec, plan.maxPerSec), phase: "ramp" };
  const { lo, hi } = bracket(probes);
  if (!hi) {
    if (lo >= plan.maxPerSec) return undefined;
    return { rate: Math.min(plan.maxPerSec, roundRate(lo * plan.factor)), phase: "ramp" };
  }
  const bisected = probes.length - rampLength(probes);
  if (bisected >= plan.maxBisect) return undefined;
  // Nothing sustained yet: go down by the factor until something is (or the bisection budget ends).
  const mid = lo === 0 ? roundRate(hi.offeredPerSec / plan.factor) : roundRate((lo + hi.offeredPerSec) / 2);
  if (lo > 0 && hi.offeredPerSec / lo <= 1 + plan.resolution) return undefined;
  if (mid <= lo || mid >= hi.offeredPerSec || probes.some((p) => p.offeredPerSec === mid)) return undefined;
  return { rate: mid, phase: "bisect" };
}

/** Steps up to and including the first that was not sustained: the ramp. */
function rampLength(probes: readonly Probe[]): number {
  const i = probes.findIndex((p) => !p.sustained);
  return i < 0 ? probes.length : i + 1;
}

export interface StepRule {
  sloP99Us: number;
  /** decided/s must be at least this share of offered/s. */
  minDecidedShare: number;
}

/** Judges one step's bench result against the rule (a pure function of result.json's SUT entry). */
export function judgeStep(
  s: SutResult,
  rule: StepRule,
): Omit<CapacityStep, "loadSeconds" | "loadAvg1m" | "runDir" | "phase" | "offeredPerSec"> & { offered: number } {
  const reasons: string[] = [];
  const offered = s.throughput.offeredPerSec;
  const decided = s.throughput.decisionPacePerSec ?? s.throughput.decidedPerSec;
  const d = s.latencyUs.decision;
  const lost = s.violations.lost?.count ?? 0;
  const violations: Record<string, number> = {};
  for (const claim of s.claims) {
    const n = s.violations[claim]?.count ?? 0;
    if (n > 0) violations[claim] = n;
  }
  // The driver's own verdict leaves out orders due before its producers were connected; a step whose whole
  // load went out late (producers slow to connect on a swamped machine) is the harness's limit just the same.
  // p90: the result keeps no p95 (the driver's own verdict is at p95, see harness-bound.ts).
  const lateUs = s.latencyUs.sendDelay.p90;
  const lateStart = lateUs > HARNESS_BOUND_MS * 1000;
  const harnessBound = s.throughput.harnessBound === true || lateStart;
  const harnessReason =
    s.throughput.harnessBoundReason ?? `orders went out late: send delay p90 ${fmtMs(lateUs)} > ${HARNESS_BOUND_MS} ms`;
  if (s.verdict === "unknown") reasons.push(`not judged: ${(s.verdictReason ?? "unknown").split("\n")[0]}`);
  if (decided < rule.minDecidedShare * offered)
    reasons.push(
      `decided ${Math.round(decided)}/s < ${Math.round(rule.minDecidedShare * 100)}% ` +
        `of ${Math.round(offered)}/s offered`,
    );
  if (lost > 0) reasons.push(`${lost} owed order(s) undecided at the end of the drain`);
  if (d.p99 > rule.sloP99Us) reasons.push(`p99 ${fmtMs(d.p99)} > SLO ${fmtMs(rule.sloP99Us)}`);
  const broken = Object.entries(violations).filter(([k]) => k !== "lost");
  if (broken.length > 0) reasons.push(`VIOLATION: ${broken.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  if (harnessBound) reasons.push(`harness-bound: ${harnessReason}`);
  return {
    offered,
    decidedPerSec: decided,
    p50Us: d.p50,
    p99Us: d.p99,
    p999Us: d.p999,
    verdict: s.verdict,
    sustained: reasons.length === 0,
    harnessBound,
    reasons,
    violations,
    orders: { sent: s.orders.sent, decided: s.orders.decided, lost },
  };
}

const fmtMs = (us: number) => (us >= 10_000 ? `${(us / 1e6).toFixed(2)} s` : `${(us / 1000).toFixed(1)} ms`);

/** The SUT's figures from its steps: the highest sustained rate and what ended the search. */
export function summarize(steps: readonly CapacityStep[], plan: Pick<SearchPlan, "maxPerSec">) {
  const sustained = steps.filter((s) => s.sustained);
  const best = sustained.sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
  const { hi } = bracket(steps);
  const limitedBy: SutCapacity["limitedBy"] = hi
    ? hi.harnessBound
      ? "harness"
      : "sut"
    : best && best.offeredPerSec >= plan.maxPerSec
      ? "max"
      : "sut";
  return { maxSustainablePerSec: best?.offeredPerSec ?? 0, p99AtMaxUs: best?.p99Us, limitedBy };
}
