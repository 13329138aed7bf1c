// Latency summaries in microseconds: HdrHistogram (pure JS, no WASM) for percentiles and the curve,
// exact max/mean kept beside it so the extremes are not rounded to a bucket edge.
import { build, type Histogram } from "hdr-histogram-js";
import type { SutResult } from "../report/result-schema.ts";

export type Percentiles = SutResult["latencyUs"]["decision"];

/** Curve points: 0, then 1 - 10^(-k/10) for k = 1..50 (90, 99, 99.9 ... 99.999), like HdrHistogram plots. */
export const CURVE_PERCENTILES: number[] = Array.from({ length: 51 }, (_, k) =>
  k === 0 ? 0 : Number((100 * (1 - Math.pow(10, -k / 10))).toFixed(6)),
);

export class LatencyRecorder {
  private readonly h: Histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3 });
  private max = 0;
  private sum = 0;
  private n = 0;

  /** Records a duration given in milliseconds (negative clamps to 0: clocks of one host, but rounding). */
  recordMs(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const us = Math.max(0, Math.round(ms * 1000));
    this.h.recordValue(us);
    this.n++;
    this.sum += us;
    if (us > this.max) this.max = us;
  }

  get count(): number {
    return this.n;
  }

  summary(withCurve = false): Percentiles {
    if (this.n === 0) {
      const empty: Percentiles = { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, count: 0, mean: 0 };
      return withCurve ? { ...empty, curve: [] } : empty;
    }
    // A percentile never exceeds the exact max (the histogram reports a bucket's upper edge).
    const at = (p: number) => Math.min(this.h.getValueAtPercentile(p), this.max);
    const out: Percentiles = {
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: this.max,
      count: this.n,
      mean: Math.round(this.sum / this.n),
    };
    if (withCurve)
      out.curve = CURVE_PERCENTILES.map((percentile) => ({ percentile, us: at(percentile) })).concat([
        { percentile: 100, us: this.max },
      ]);
    return out;
  }
}

/** Exact nearest-rank percentile of a small sample (per-second series buckets). */
export function nearestRank(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
