// capacity.json: the names the issue fixed (suts[].maxSustainablePerSec, suts[].steps[], ceiling.*) are stable so
// tools can read them; add fields freely, rename none without bumping schemaVersion.
import { z } from "zod";

export const CAPACITY_SCHEMA_VERSION = 1;

export const stepSchema = z.object({
  offeredPerSec: z.number(),
  /** decided / (last − first decision): the pace decisions came at (result.json throughput.decisionPacePerSec). */
  decidedPerSec: z.number(),
  p50Us: z.number(),
  p99Us: z.number(),
  p999Us: z.number(),
  /** The checker's verdict of the step (pass, fail, unknown), judged on the SUT's claims as in bench. */
  verdict: z.enum(["pass", "fail", "unknown"]),
  /** decided ≥ 95% of offered, every owed order decided by the end of the drain, p99 ≤ the SLO, no claim broken. */
  sustained: z.boolean(),
  /** The load driver fell behind its schedule: the step says nothing about the SUT (it never counts against it). */
  harnessBound: z.boolean(),
  /** Why the step is not sustained (or harness-bound), one line per reason. */
  reasons: z.array(z.string()),
  /** Claimed invariants broken at this rate, with counts: reported as such, never averaged away. */
  violations: z.record(z.string(), z.number()),
  orders: z.object({ sent: z.number(), decided: z.number(), lost: z.number() }),
  /** Seconds of load, and the 1-min load average of the machine when the step ended. */
  loadSeconds: z.number(),
  loadAvg1m: z.number(),
  /** Cores busy on average while the load ran (1 = one core): where the CPU went, sampled from /proc. */
  cpuCores: z.object({ broker: z.number(), sut: z.number(), harness: z.number() }).optional(),
  /** The step's run folder (result.json, report.html), relative to capacity.json. */
  runDir: z.string(),
  /** The step's order in the search: the ramp (×factor) or the bisection between two rates. */
  phase: z.enum(["ramp", "bisect"]),
});
export type CapacityStep = z.infer<typeof stepSchema>;

export const sutCapacitySchema = z.object({
  name: z.string(),
  /** The highest sustained step's offered rate (0: none was). */
  maxSustainablePerSec: z.number(),
  /** p99 decision latency at that step (µs). */
  p99AtMaxUs: z.number().optional(),
  /**
   * What ended the search: the SUT (a step above it was not sustained), the harness (the driver could not offer
   * more: the SUT's limit is at least the max), the --max rate, or an error.
   */
  limitedBy: z.enum(["sut", "harness", "max", "error"]),
  /** Steps in the order they ran. */
  steps: z.array(stepSchema),
  /** Setting values the SUT ran with (its throughput profile over its defaults), as OVERSELL_SETTING_* names. */
  settings: z.record(z.string(), z.string()),
  error: z.string().optional(),
});
export type SutCapacity = z.infer<typeof sutCapacitySchema>;

const producerRun = z.object({
  recordsPerSec: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
  records: z.number(),
});

export const capacitySchema = z.object({
  schemaVersion: z.literal(CAPACITY_SCHEMA_VERSION),
  kind: z.literal("capacity"),
  startedAt: z.string(),
  /** Absent while the run is under way (the file is written after each SUT). */
  finishedAt: z.string().optional(),
  command: z.string().optional(),
  quick: z.boolean(),
  /** The step rule: latency SLO on p99, the share of the offer that must be decided, seconds of load per step. */
  rule: z.object({
    sloP99Us: z.number(),
    minDecidedShare: z.number(),
    stepSeconds: z.number(),
    /** Seconds of load before the measured ones in every step: judged for safety, left out of the figures. */
    warmupSeconds: z.number().optional(),
    drainSeconds: z.number(),
  }),
  search: z.object({ fromPerSec: z.number(), maxPerSec: z.number(), factor: z.number(), resolution: z.number() }),
  kafka: z.object({
    version: z.string().optional(),
    bootstrap: z.string(),
    embedded: z.boolean(),
    partitions: z.number(),
  }),
  /** Kafka's own producer on the same broker and topic layout, at the orders' record size: the physical limit. */
  ceiling: z.object({
    recordBytes: z.number(),
    /** ProducerPerformance, acks=all, idempotent, as fast as it goes. */
    producerPerSec: z.number().optional(),
    /** The same with a transactional id, committing every transactionDurationMs. */
    transactionalProducerPerSec: z.number().optional(),
    transactionDurationMs: z.number(),
    producer: producerRun.optional(),
    transactional: producerRun.optional(),
    error: z.string().optional(),
  }),
  /** The fair tuning everything ran with: the embedded broker's profile and each SUT's sut.json profile. */
  profile: z.object({
    name: z.string(),
    broker: z
      .object({ jvm: z.array(z.string()), properties: z.record(z.string(), z.union([z.string(), z.number()])) })
      .optional(),
    suts: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.number()]))),
  }),
  suts: z.array(sutCapacitySchema),
  machine: z.object({ cpus: z.number(), loadAvgStart: z.array(z.number()), loadAvgEnd: z.array(z.number()) }),
});
export type CapacityReport = z.infer<typeof capacitySchema>;
