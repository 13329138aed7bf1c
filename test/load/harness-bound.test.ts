// The driver's own verdict on a run, on synthetic delays: a SUT is never blamed for the harness's limit, and the
// harness is not blamed for a slow broker.
import { describe, expect, it } from "vitest";
import { BUSY_WORKER_ELU, HARNESS_BOUND_MS, HarnessLag } from "../../harness/load/harness-bound.ts";
import { emptyStats } from "../../harness/load/types.ts";

/** 1,000 orders sent on time whose records then waited waitMs in a worker's queue. */
function lagWith(waitMs: number, workerBusy: number): HarnessLag {
  const lag = new HarnessLag(0);
  for (let i = 0; i < 1000; i++) {
    lag.sent(2, 10 + i);
    lag.queued(waitMs, 1);
  }
  lag.workerBusy(workerBusy);
  return lag;
}

describe("harness-bound", () => {
  it("a queue behind slow acks with idle workers is the broker's pace, not the harness's limit", () => {
    const v = lagWith(HARNESS_BOUND_MS * 3, 0.3).verdict({ ...emptyStats(1000), sent: 1000, acked: 1000 });
    expect(v.harnessBound).toBe(false);
    expect(v.queueDelayP99Ms).toBeGreaterThan(HARNESS_BOUND_MS);
  });

  it("the same queue with a busy worker is the harness's limit, and says why", () => {
    const v = lagWith(HARNESS_BOUND_MS * 3, BUSY_WORKER_ELU + 0.05).verdict({
      ...emptyStats(1000),
      sent: 1000,
      acked: 1000,
    });
    expect(v.harnessBound).toBe(true);
    expect(v.harnessBoundReason).toMatch(/waited p95 3\d\d ms > 100 ms .* 85% busy/);
  });

  it("a short queue is nobody's limit; a late schedule always is", () => {
    const stats = { ...emptyStats(1000), sent: 1000, acked: 1000 };
    expect(lagWith(HARNESS_BOUND_MS / 2, 1).verdict(stats).harnessBound).toBe(false);
    const late = new HarnessLag(0);
    for (let i = 0; i < 1000; i++) late.sent(HARNESS_BOUND_MS * 2, 10 + i);
    expect(late.verdict(stats)).toMatchObject({ harnessBound: true });
    expect(late.verdict(stats).harnessBoundReason).toMatch(/fell behind its schedule/);
  });
});
