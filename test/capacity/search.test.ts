// The knee search as pure functions: the ramp, the bisection, harness-bound steps, and the step rule on
// synthetic results (no broker needed).
import { describe, expect, it } from "vitest";
import {
  bracket,
  judgeStep,
  nextRate,
  roundRate,
  summarize,
  type Probe,
  type SearchPlan,
} from "../../harness/capacity/search.ts";
import { sutStepResult } from "./fixture.ts";

const plan: SearchPlan = { fromPerSec: 500, maxPerSec: 200_000, factor: 2, resolution: 0.1, maxBisect: 4 };

/** The search against a SUT that sustains every rate up to `knee` (and a harness that delivers up to `harness`). */
function simulate(knee: number, p: SearchPlan, harness = Infinity): Probe[] {
  const probes: Probe[] = [];
  for (let next = nextRate(probes, p); next; next = nextRate(probes, p)) {
    const harnessBound = next.rate > harness;
    probes.push({ offeredPerSec: next.rate, sustained: !harnessBound && next.rate <= knee, harnessBound });
    if (probes.length > 40) throw new Error("the search does not end");
  }
  return probes;
}

describe("the knee search", () => {
  it("ramps by the factor from --from, then bisects to within the resolution", () => {
    const probes = simulate(5_300, plan);
    expect(probes.slice(0, 5).map((p) => p.offeredPerSec)).toEqual([500, 1000, 2000, 4000, 8000]);
    const { lo, hi } = bracket(probes);
    expect(lo).toBeLessThanOrEqual(5_300);
    expect(lo).toBeGreaterThan(4_000);
    expect(hi!.offeredPerSec / lo).toBeLessThanOrEqual(1.25);
  });

  it("stops at --max when everything is sustained", () => {
    const probes = simulate(1e9, { ...plan, maxPerSec: 3000 });
    expect(probes.map((p) => p.offeredPerSec)).toEqual([500, 1000, 2000, 3000]);
    expect(summarize(probes.map(asStep), { maxPerSec: 3000 }).limitedBy).toBe("max");
  });

  it("goes down from --from when the first step is not sustained, within the bisection budget", () => {
    const probes = simulate(200, { ...plan, maxBisect: 2 });
    expect(probes.map((p) => p.offeredPerSec)).toEqual([500, 250, 130]);
  });

  it("a harness-bound step bounds the search without counting against the SUT", () => {
    const probes = simulate(1e9, plan, 3000);
    const s = summarize(probes.map(asStep), plan);
    expect(s.limitedBy).toBe("harness");
    expect(s.maxSustainablePerSec).toBeGreaterThanOrEqual(2000);
    expect(s.maxSustainablePerSec).toBeLessThanOrEqual(3000);
  });

  it("rounds rates to two significant digits", () => {
    expect([roundRate(3), roundRate(123), roundRate(6_250), roundRate(47_123)]).toEqual([10, 120, 6_300, 47_000]);
  });
});

describe("the step rule", () => {
  const rule = { sloP99Us: 1_000_000, minDecidedShare: 0.95 };

  it("sustained: decided at the offered pace, nothing lost, p99 within the SLO", () => {
    const j = judgeStep(sutStepResult({ offered: 1000, pace: 990, p99Us: 400_000 }), rule);
    expect(j.sustained).toBe(true);
    expect(j.reasons).toEqual([]);
  });

  it("names every reason a step is not sustained", () => {
    const j = judgeStep(sutStepResult({ offered: 1000, pace: 700, p99Us: 2_500_000, lost: 3 }), rule);
    expect(j.sustained).toBe(false);
    expect(j.reasons.join("\n")).toMatch(/decided 700\/s < 95% of 1000\/s/);
    expect(j.reasons.join("\n")).toMatch(/3 owed order\(s\) undecided/);
    expect(j.reasons.join("\n")).toMatch(/p99 2\.50 s > SLO 1\.00 s/);
  });

  it("reports a broken claim as a violation, never as mere slowness", () => {
    const j = judgeStep(sutStepResult({ offered: 1000, pace: 1000, p99Us: 100_000, oversell: 2 }), rule);
    expect(j.sustained).toBe(false);
    expect(j.violations).toEqual({ oversell: 2 });
    expect(j.reasons.join("\n")).toMatch(/VIOLATION: oversell 2/);
  });

  it("an unclaimed invariant (naive's oversell) does not make a step unsustained", () => {
    const j = judgeStep(sutStepResult({ offered: 1000, pace: 1000, p99Us: 100_000, oversell: 5, claims: [] }), rule);
    expect(j.sustained).toBe(true);
    expect(j.violations).toEqual({});
  });

  it("a step whose orders all went out late is harness-bound too (the driver's own verdict skips them)", () => {
    const j = judgeStep(sutStepResult({ offered: 130, pace: 130, p99Us: 16e6, sendDelayUs: 14e6 }), rule);
    expect(j.harnessBound).toBe(true);
    expect(j.reasons.join("\n")).toMatch(/harness-bound: orders went out late: send delay p90 14\.00 s > 100 ms/);
  });

  it("marks a harness-bound step", () => {
    const j = judgeStep(sutStepResult({ offered: 1000, pace: 1000, p99Us: 100_000, harnessBound: true }), rule);
    expect(j.harnessBound).toBe(true);
    expect(j.sustained).toBe(false);
  });
});

function asStep(p: Probe) {
  return {
    ...p,
    decidedPerSec: p.offeredPerSec,
    p50Us: 1,
    p99Us: 2,
    p999Us: 3,
    verdict: "pass" as const,
    reasons: [],
    violations: {},
    orders: { sent: 1, decided: 1, lost: 0 },
    loadSeconds: 5,
    loadAvg1m: 1,
    runDir: "x",
    phase: "ramp" as const,
  };
}
