// result.json, versioned. The core names (DESIGN.md) are stable: add fields freely,
// rename none without bumping schemaVersion. Everything else in the product reads this.
import { z } from "zod";

/**
 * 2: the oversell-in-time check (examples with `instant`, `inTime`); only fields were added, so version 1 files
 * still read (their violations simply lack the check).
 */
export const SCHEMA_VERSION = 2;

const percentiles = z.object({
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  count: z.number().optional(),
  mean: z.number().optional(),
  /** Percentile curve for HdrHistogram-style plots: percentile (0-100) -> microseconds. */
  curve: z.array(z.object({ percentile: z.number(), us: z.number() })).optional(),
});

const violation = z.object({
  count: z.number().int().min(0),
  examples: z.array(
    z.object({
      id: z.string(),
      detail: z.string(),
      events: z.array(z.unknown()).optional(),
      /** oversell-in-time (version 2): the instant, the stock then and the units held then. */
      instant: z
        .object({ atMs: z.number(), stock: z.number(), held: z.number(), restocksBefore: z.number() })
        .optional(),
    }),
  ),
});

export const faultSchema = z.object({
  kind: z.string(),
  target: z.string(),
  at: z.number(),
  until: z.number(),
  detail: z.string().optional(),
});

export const sutResultSchema = z.object({
  name: z.string(),
  namespace: z.string(),
  instances: z.number(),
  claims: z.array(z.string()),
  /** Violations the checker is expected to catch (manifest expectedViolations), e.g. naive: ["oversell"]. */
  expectedViolations: z.array(z.string()).optional(),
  /** The manifest's one-line description. */
  description: z.string().optional(),
  confirms: z.boolean().optional(),
  expected: z.enum(["pass", "fail"]),
  verdict: z.enum(["pass", "fail", "unknown"]),
  /** Why the verdict is unknown, or the SUT could not run. */
  verdictReason: z.string().optional(),
  violations: z.record(z.string(), violation),
  orders: z.object({
    sent: z.number(),
    acked: z.number(),
    decided: z.number(),
    reserved: z.number(),
    confirmed: z.number(),
    rejected: z.number(),
    cancelled: z.number().optional(),
    expired: z.number().optional(),
    invalid: z.number().optional(),
    failed: z.number().optional(),
    unknown: z.number().optional(),
  }),
  units: z.object({ stock: z.number(), sold: z.number(), held: z.number() }).optional(),
  /** Per product (oversold first; capped): stock S(p), sold, held. */
  products: z
    .array(z.object({ productId: z.string(), stock: z.number(), sold: z.number(), held: z.number() }))
    .optional(),
  latencyUs: z.object({
    decision: percentiles,
    ack: percentiles,
    sendDelay: percentiles,
    /** --driver http: decision latency as the HTTP client sees it (GET /orders/:id answered − intended send). */
    httpDecision: percentiles.optional(),
  }),
  /** --driver http: outcome of the client's decision long polls. */
  httpPolls: z
    .object({ polled: z.number(), decided: z.number(), timedOut: z.number(), skipped: z.number(), errors: z.number() })
    .optional(),
  throughput: z.object({
    offeredPerSec: z.number(),
    decidedPerSec: z.number(),
    ackedPerSec: z.number().optional(),
    /**
     * decided / (last decision − first decision): the pace decisions came at, without the constant decision
     * latency that decidedPerSec (counted from the first intended send) carries; `capacity` compares it with the offer.
     */
    decisionPacePerSec: z.number().optional(),
    /** The load driver could not keep its schedule: the rate was the harness's limit, not the SUT's. */
    harnessBound: z.boolean().optional(),
    harnessBoundReason: z.string().optional(),
  }),
  /** Time series, buckets of seriesBucketMs (1 s when absent) from seriesStartMs: counts and decision latency. */
  series: z
    .array(
      z.object({
        tSec: z.number(),
        offered: z.number(),
        acked: z.number(),
        decided: z.number(),
        p50Us: z.number().optional(),
        p99Us: z.number().optional(),
        maxUs: z.number().optional(),
      }),
    )
    .optional(),
  faults: z.array(faultSchema),
  /**
   * How valid orders fared among poison pills (invalid orders): valid orders owed a decision that got
   * none, and the decision latency of valid orders stored right behind an invalid one on the same
   * <ns>.orders partition vs the other valid orders (a SUT that stalls on a bad record shows here).
   */
  poison: z
    .object({
      invalid: z.number(),
      validUndecided: z.number(),
      afterPoison: percentiles,
      otherValid: percentiles,
    })
    .optional(),
  /**
   * How oversell-in-time was judged (version 2): the margin on every time bound, whether it was judged at
   * all (not when decisions were re-read after the run), and which products were left out.
   */
  inTime: z.object({ judged: z.boolean(), marginMs: z.number(), note: z.string().optional() }).optional(),
  /** SUT instances that exited on their own (not killed by the nemesis). */
  crashes: z.array(z.object({ instance: z.string(), code: z.number().nullable() })).optional(),
  startedAtMs: z.number().optional(),
  /**
   * Epoch ms of the series' tSec 0: the first intended send of the load. Fault times (`faults[].at`)
   * are placed on the time charts against this, not against startedAtMs (which comes before topics,
   * instances and readiness, seconds earlier).
   */
  seriesStartMs: z.number().optional(),
  /** Width of a series bucket in ms: 1000, or 10 for a run whose activity fits in 2 s (tSec is then fractional). */
  seriesBucketMs: z.number().positive().optional(),
  durationMs: z.number().optional(),
  /** The verdict equals the expected one and every expected violation was caught. */
  matchesExpectation: z.boolean().optional(),
  /** Expected violations that the run did not show. */
  missingExpected: z.array(z.string()).optional(),
  /**
   * `check --from-topics --ns` (orders read from the orders topic, no run folder): how many orders' latency starts
   * at the intended send time their producer stated (`intendedAtMs`), and how many at the record timestamp.
   */
  latencyFrom: z.object({ intended: z.number(), recordTimestamp: z.number() }).optional(),
  /** Client errors met while reading or writing (never fatal), for diagnosis. */
  warnings: z.array(z.string()).optional(),
  /** Instance log files, relative to the run folder. */
  logs: z.array(z.string()).optional(),
  /** The Kafka client the SUT's instances ran on (SUTs with a `client` setting: kafkajs, confluent). */
  client: z.object({ name: z.string(), version: z.string() }).optional(),
  /**
   * --cross-check: a second reader (Kafka's Java consumer) listed the committed decisions; compared per
   * partition and offset (and value hash) with what the checker's reader delivered. Not agreed = harness error.
   */
  crossCheck: z
    .object({
      reader: z.string(),
      agreed: z.boolean(),
      records: z.number().int().nonnegative(),
      differences: z.number().int().nonnegative(),
      examples: z.array(
        z.object({
          partition: z.number().int(),
          offset: z.string(),
          kind: z.enum(["missing", "extra", "value"]),
          detail: z.string(),
        }),
      ),
      partitions: z.array(
        z.object({
          partition: z.number().int(),
          main: z.number().int().nonnegative(),
          java: z.number().int().nonnegative(),
          readThrough: z.string().optional(),
          lastStableOffset: z.string().optional(),
        }),
      ),
      error: z.string().optional(),
    })
    .optional(),
});

export const resultSchema = z.object({
  schemaVersion: z.union([z.literal(1), z.literal(SCHEMA_VERSION)]),
  runId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  seed: z.number(),
  scenario: z.looseObject({ name: z.string() }),
  kafka: z.object({
    version: z.string().optional(),
    brokers: z.number(),
    bootstrap: z.string(),
    embedded: z.boolean(),
  }),
  verdict: z.enum(["pass", "fail", "unknown"]),
  suts: z.array(sutResultSchema),
  environment: z
    .object({
      node: z.string(),
      platform: z.string(),
      cpus: z.number(),
      memoryGiB: z.number(),
      clients: z.record(z.string(), z.string()),
    })
    .optional(),
  command: z.string().optional(),
  /** How orders were delivered: straight to Kafka, or through the HTTP order gateway. */
  driver: z.enum(["kafka", "http"]).optional(),
  /** The --faults text, if any. */
  faults: z.string().optional(),
  /** Set by `npm run check` when it judged a stored run again. */
  checkedAt: z.string().optional(),
});

export type RunResult = z.infer<typeof resultSchema>;
export type SutResult = z.infer<typeof sutResultSchema>;
