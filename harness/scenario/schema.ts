// The scenario file: what products exist, how much is ordered, and when. Validated with zod;
// every problem is reported at once with its field path.
import { z } from "zod";

/** Orders mixed into the stream on purpose. The first seven break the contract; the last two do not. */
export const MIX_KINDS = [
  "bad-json",
  "wrong-types",
  "missing-fields",
  "zero-quantity",
  "negative-quantity",
  "huge-quantity",
  "unknown-product",
  "near-size-limit",
  "retry",
] as const;
export type MixKind = (typeof MIX_KINDS)[number];

const int = z.number().int();
/** Above what one broker takes here (Kafka's own producer: about 200k records/s), so the cap never hides a limit. */
export const MAX_RATE_PER_SEC = 1_000_000;

/** An integer, or a distribution of integers ({dist: "uniform", min, max} is inclusive). */
function distribution(min: number) {
  return z.union(
    [
      int.min(min),
      z.discriminatedUnion("dist", [
        z.strictObject({ dist: z.literal("fixed"), value: int.min(min) }),
        z
          .strictObject({ dist: z.literal("uniform"), min: int.min(min), max: int.min(min) })
          .refine((d) => d.max >= d.min, {
            message: "max must be at least min",
            path: ["max"],
          }),
        z
          .strictObject({
            dist: z.literal("choice"),
            values: z.array(int.min(min)).min(1),
            weights: z.array(z.number().positive()).optional(),
          })
          .refine((d) => !d.weights || d.weights.length === d.values.length, {
            message: "weights must have one entry per value",
            path: ["weights"],
          }),
      ]),
    ],
    { error: `expected an integer >= ${min} or {dist: "fixed"|"uniform"|"choice", ...}` },
  );
}
export type Distribution = z.infer<ReturnType<typeof distribution>>;

const restock = z.strictObject({
  /** When, in ms after the load starts. */
  atMs: int.min(0),
  quantity: distribution(1),
  /** "all", how many products (chosen by the seed), or a list of product indexes (0-based). */
  products: z
    .union([z.literal("all"), int.min(1), z.array(int.min(0)).min(1)], {
      error: 'expected "all", a count, or a list of product indexes',
    })
    .default("all"),
});

const timing = z.discriminatedUnion("kind", [
  /** N orders spread at random inside [startMs, startMs + windowMs). */
  z.strictObject({ kind: z.literal("burst"), windowMs: int.min(0).max(3_600_000), startMs: int.min(0).default(0) }),
  /** Open-loop constant rate: the count is ratePerSec * durationMs / 1000. */
  z.strictObject({
    kind: z.literal("rate"),
    ratePerSec: z.number().positive().max(MAX_RATE_PER_SEC),
    durationMs: int.min(1).max(3_600_000),
  }),
  /** Piecewise-linear rate. */
  z.strictObject({
    kind: z.literal("ramp"),
    stages: z
      .array(z.strictObject({ durationMs: int.min(1), fromPerSec: z.number().min(0), toPerSec: z.number().min(0) }))
      .min(1),
  }),
]);

const demand = z.strictObject({
  /** Exactly this many orders for every product (uniform). */
  ordersPerProduct: int.min(1).max(10_000).optional(),
  /** This many orders in all. */
  orders: int.min(1).max(2_000_000).optional(),
  /** Total units ordered / total units in stock (initial + restocks); sets the count. */
  oversubscription: z.number().positive().max(1000).optional(),
  skew: z
    .discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("uniform") }),
      z.strictObject({ kind: z.literal("zipf"), exponent: z.number().positive().max(10).default(1) }),
    ])
    .default({ kind: "uniform" }),
  quantity: distribution(1).default(1),
  customers: int.min(1).default(1000),
});

export const scenarioSchema = z
  .strictObject({
    /** For editors: the JSON Schema of this file. */
    $schema: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,60}$/, "letters, digits, '.', '_' and '-' (at most 60)"),
    description: z.string().optional(),
    /** Default seed; --seed overrides it. */
    seed: int.min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    products: z.strictObject({
      count: int.min(1).max(100_000),
      initialStock: distribution(0),
      restocks: z.array(restock).default([]),
    }),
    demand,
    timing,
    /** Malformed, invalid or unusual orders mixed into the stream at this rate. */
    invalid: z
      .strictObject({
        rate: z.number().min(0).max(1),
        kinds: z
          .array(z.enum(MIX_KINDS))
          .min(1)
          .default([...MIX_KINDS]),
      })
      .optional(),
    kafka: z.strictObject({ partitions: int.min(1).max(64).default(4) }).default({ partitions: 4 }),
    /** How long after the last send the checker waits for every acknowledged order to be decided. */
    drainTimeoutMs: int.min(1000).max(3_600_000).default(30_000),
    /**
     * Orders intended in the first warmupMs of the load are judged like every other, but left out of the latency
     * percentiles and the throughput figures: JIT, group joins and producer set-up are not the steady state.
     */
    warmupMs: int.min(0).max(3_600_000).optional(),
  })
  .superRefine((s, ctx) => {
    const counts = (["ordersPerProduct", "orders", "oversubscription"] as const).filter(
      (k) => s.demand[k] !== undefined,
    );
    if (s.timing.kind === "burst") {
      if (counts.length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["demand"],
          message: "a burst needs one of ordersPerProduct, orders or oversubscription",
        });
      }
    } else {
      for (const k of counts) {
        ctx.addIssue({
          code: "custom",
          path: ["demand", k],
          message: `not allowed with timing.kind "${s.timing.kind}": the rate and duration decide the count`,
        });
      }
    }
    if (counts.length > 1) {
      ctx.addIssue({ code: "custom", path: ["demand"], message: `give only one of ${counts.join(", ")}` });
    }
    if (s.demand.ordersPerProduct !== undefined && s.demand.skew.kind !== "uniform") {
      ctx.addIssue({ code: "custom", path: ["demand", "skew"], message: "ordersPerProduct needs a uniform skew" });
    }
    const loadMs = loadSpanMs(s.timing);
    if (s.warmupMs !== undefined && s.warmupMs > 0 && s.warmupMs >= loadMs) {
      ctx.addIssue({
        code: "custom",
        path: ["warmupMs"],
        message: `${s.warmupMs} ms is not shorter than the load (${loadMs} ms): nothing would be measured`,
      });
    }
    s.products.restocks.forEach((r, i) => {
      if (Array.isArray(r.products)) {
        r.products.forEach((p, j) => {
          if (p >= s.products.count) {
            ctx.addIssue({
              code: "custom",
              path: ["products", "restocks", i, "products", j],
              message: `product index ${p} is out of range (count ${s.products.count})`,
            });
          }
        });
      } else if (typeof r.products === "number" && r.products > s.products.count) {
        ctx.addIssue({
          code: "custom",
          path: ["products", "restocks", i, "products"],
          message: `more products (${r.products}) than exist (${s.products.count})`,
        });
      }
    });
  });

/** How long the load runs, from the first intended send to the last. */
export function loadSpanMs(t: z.infer<typeof timing>): number {
  if (t.kind === "burst") return t.startMs + t.windowMs;
  if (t.kind === "rate") return t.durationMs;
  return t.stages.reduce((a, st) => a + st.durationMs, 0);
}

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
