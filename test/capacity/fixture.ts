// Synthetic inputs for the capacity tests: one step's bench result (a SutResult), and a whole capacity report
// with two SUTs (a knee, a harness-bound step, a violation) and a hostile reason that must never run.
import type { CapacityReport, CapacityStep } from "../../harness/capacity/schema.ts";
import { ALL_CHECKS } from "../../harness/checker/types.ts";
import type { SutResult } from "../../harness/report/result-schema.ts";

export const XSS_REASON = `"><img src=x onerror="window.__oversellXss=1"><script>window.__oversellXss=2</script>`;

export function sutStepResult(o: {
  offered: number;
  pace: number;
  p99Us: number;
  lost?: number;
  oversell?: number;
  harnessBound?: boolean;
  claims?: string[];
  /** The send delay at p90 and p99 (the whole load late by as much). */
  sendDelayUs?: number;
}): SutResult {
  const claims = o.claims ?? ["oversell", "duplicate", "conflict", "lost", "phantom", "invalid-accepted"];
  const violations = Object.fromEntries(ALL_CHECKS.map((c) => [c, { count: 0, examples: [] }]));
  violations.lost = { count: o.lost ?? 0, examples: [] };
  violations.oversell = { count: o.oversell ?? 0, examples: [] };
  const broken = claims.some((c) => (violations[c]?.count ?? 0) > 0);
  const p = { p50: o.p99Us / 3, p90: o.p99Us / 2, p99: o.p99Us, p999: o.p99Us * 1.5, max: o.p99Us * 2 };
  return {
    name: "keyed-transactional",
    namespace: "oversell.x.keyed-transactional",
    instances: 2,
    claims,
    expected: "pass",
    verdict: broken ? "fail" : "pass",
    violations,
    orders: {
      sent: o.offered * 5,
      acked: o.offered * 5,
      decided: o.offered * 5,
      reserved: 1,
      confirmed: 0,
      rejected: 0,
    },
    latencyUs: { decision: p, ack: p, sendDelay: { ...p, p90: o.sendDelayUs ?? 2000, p99: o.sendDelayUs ?? 2000 } },
    throughput: {
      offeredPerSec: o.offered,
      decidedPerSec: o.pace * 0.9,
      decisionPacePerSec: o.pace,
      ...(o.harnessBound ? { harnessBound: true, harnessBoundReason: "send delay p95 400 ms > 100 ms" } : {}),
    },
    faults: [],
  };
}

function step(offered: number, p50Ms: number, p99Ms: number, extra: Partial<CapacityStep> = {}): CapacityStep {
  return {
    offeredPerSec: offered,
    decidedPerSec: offered * 0.99,
    p50Us: p50Ms * 1000,
    p99Us: p99Ms * 1000,
    p999Us: p99Ms * 1300,
    verdict: "pass",
    sustained: true,
    harnessBound: false,
    reasons: [],
    violations: {},
    orders: { sent: offered * 5, decided: offered * 5, lost: 0 },
    loadSeconds: 5,
    loadAvg1m: 3.2,
    runDir: `steps/sut-${offered}`,
    phase: "ramp",
    cpuCores: { sut: 0.6, broker: 0.4, harness: 0.3 },
    ...extra,
  };
}

export function buildCapacityReport(): CapacityReport {
  return {
    schemaVersion: 1,
    kind: "capacity",
    startedAt: "2026-12-02T12:00:00.000Z",
    finishedAt: "2026-12-02T12:09:00.000Z",
    command: "npm run capacity -- --sut keyed-transactional,kafka-streams --quick",
    quick: true,
    rule: { sloP99Us: 1_000_000, minDecidedShare: 0.95, stepSeconds: 5, drainSeconds: 30 },
    search: { fromPerSec: 500, maxPerSec: 200_000, factor: 2, resolution: 0.25 },
    kafka: { version: "4.1.1", bootstrap: "127.0.0.1:9092", embedded: true, partitions: 4 },
    ceiling: {
      recordBytes: 119,
      producerPerSec: 61_000,
      transactionalProducerPerSec: 42_000,
      transactionDurationMs: 100,
      producer: { recordsPerSec: 61_000, p50Ms: 300, p99Ms: 800, records: 200_000 },
      transactional: { recordsPerSec: 42_000, p50Ms: 90, p99Ms: 250, records: 200_000 },
    },
    profile: {
      name: "throughput",
      broker: { jvm: ["-Xms1g", "-Xmx1g", "-XX:+UseG1GC"], properties: { "num.io.threads": 4 } },
      suts: { "keyed-transactional": { batch_size: 1000, linger_ms: 20 }, "kafka-streams": { jvm: "throughput" } },
    },
    suts: [
      {
        name: "keyed-transactional",
        maxSustainablePerSec: 3000,
        p99AtMaxUs: 640_000,
        limitedBy: "sut",
        settings: { OVERSELL_SETTING_BATCH_SIZE: "1000" },
        steps: [
          step(500, 60, 150),
          step(1000, 70, 190),
          step(2000, 90, 300),
          step(4000, 900, 3100, { sustained: false, reasons: ["p99 3.10 s > SLO 1.00 s", XSS_REASON] }),
          step(3000, 200, 640, { phase: "bisect" }),
        ],
      },
      {
        name: "kafka-streams",
        maxSustainablePerSec: 1000,
        p99AtMaxUs: 420_000,
        limitedBy: "harness",
        settings: {},
        steps: [
          step(500, 150, 300),
          step(1000, 180, 420),
          step(2000, 400, 1500, {
            sustained: false,
            harnessBound: true,
            reasons: ["harness-bound: the driver fell behind its schedule"],
          }),
          step(1500, 300, 1100, {
            sustained: false,
            verdict: "fail",
            violations: { duplicate: 2 },
            reasons: ["VIOLATION: duplicate 2"],
            phase: "bisect",
          }),
        ],
      },
    ],
    machine: { cpus: 2, loadAvgStart: [3.1, 2.5, 2], loadAvgEnd: [4.2, 3.3, 2.6] },
  };
}
