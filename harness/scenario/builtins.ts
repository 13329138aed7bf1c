// The built-in scenarios (DESIGN.md). last-unit is the default and is kept small: bench runs
// every SUT on it one after another on a 2-core machine in about a minute or two.
import type { ScenarioInput } from "./schema.ts";

/**
 * A burst sells every product out (stock 5, 10 orders a product in the first second); each is restocked (+4)
 * at `restockAtMs` and a second wave (8 orders a product) comes 0.5-1.5 s after it. A SUT that sells ahead of
 * the restock has oversold until then, however the end looks. The gap is long because a SUT on a loaded 2-core
 * machine may take several seconds to decide the burst, and only what the checker saw before the restock was
 * sent can be judged against it.
 */
export function lateRestock(name: string, restockAtMs: number): ScenarioInput {
  return {
    name,
    description:
      `A burst sells every product out; ${(restockAtMs - 1000) / 1000} s later each is restocked and a second ` +
      "wave of orders takes the new units: the stock is judged at every instant (oversell-in-time), not only at " +
      "the end.",
    seed: 1,
    products: { count: 10, initialStock: 5, restocks: [{ atMs: restockAtMs, quantity: 4, products: "all" }] },
    demand: { quantity: 1, customers: 500 },
    timing: {
      kind: "ramp",
      stages: [
        { durationMs: 1000, fromPerSec: 100, toPerSec: 100 },
        { durationMs: restockAtMs - 500, fromPerSec: 0, toPerSec: 0 },
        { durationMs: 1000, fromPerSec: 80, toPerSec: 80 },
      ],
    },
    drainTimeoutMs: 30_000,
  };
}

export const BUILTIN_SCENARIOS: Record<string, ScenarioInput> = {
  "last-unit": {
    name: "last-unit",
    description: "Many products with stock 1 and several concurrent orders for each: the race for the last unit.",
    seed: 1,
    products: { count: 40, initialStock: 1 },
    demand: { ordersPerProduct: 4, quantity: 1, customers: 500 },
    timing: { kind: "burst", windowMs: 100 },
    drainTimeoutMs: 30_000,
  },
  "hot-products": {
    name: "hot-products",
    description: "Zipf-skewed demand on a few hot products; total demand far above total stock.",
    seed: 1,
    products: { count: 100, initialStock: { dist: "uniform", min: 1, max: 3 } },
    demand: { skew: { kind: "zipf", exponent: 1.1 }, quantity: { dist: "choice", values: [1, 2], weights: [4, 1] } },
    timing: { kind: "rate", ratePerSec: 150, durationMs: 6000 },
    drainTimeoutMs: 45_000,
  },
  "flash-sale": {
    name: "flash-sale",
    description: "One burst of orders from t0 on a few products; a restock lands while the burst is still coming in.",
    seed: 1,
    // The restock falls inside the burst so later orders can use it (a restock after the last order would
    // turn every earlier OUT_OF_STOCK into a false rejection by definition).
    products: { count: 10, initialStock: 20, restocks: [{ atMs: 500, quantity: 10, products: "all" }] },
    demand: { orders: 600, quantity: 1 },
    timing: { kind: "burst", windowMs: 1000 },
    drainTimeoutMs: 45_000,
  },
  "late-restock": lateRestock("late-restock", 8000),
  steady: {
    name: "steady",
    description: "Open-loop constant rate for a duration with plenty of stock: decision-latency percentiles.",
    seed: 1,
    products: { count: 200, initialStock: 1000 },
    demand: { quantity: { dist: "uniform", min: 1, max: 3 } },
    timing: { kind: "rate", ratePerSec: 50, durationMs: 20_000 },
    drainTimeoutMs: 30_000,
  },
};

export const DEFAULT_SCENARIO = "last-unit";
