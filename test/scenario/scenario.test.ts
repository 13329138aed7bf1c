import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseOrderRecord } from "../../systems-under-test/contract/events.ts";
import {
  BUILTIN_SCENARIOS,
  DEFAULT_SCENARIO,
  generateStream,
  loadScenario,
  MAX_RATE_PER_SEC,
  MIX_KINDS,
  NEAR_LIMIT_BYTES,
  orderValue,
  validateScenario,
  type ScenarioInput,
} from "../../harness/scenario/index.ts";
import { SCHEMA_FILE, scenarioJsonSchema } from "../../harness/scenario/write-schema.ts";
import { InputError } from "../../harness/shared/zod-errors.ts";

const lastUnit = BUILTIN_SCENARIOS["last-unit"]!;

function streamText(name: string, seed: number): string {
  return JSON.stringify(generateStream(loadScenario(name), seed).orders);
}

describe("scenario stream", () => {
  it("the same seed gives an identical stream, a different seed a different one", () => {
    for (const name of Object.keys(BUILTIN_SCENARIOS)) {
      expect(streamText(name, 7)).toBe(streamText(name, 7));
      expect(streamText(name, 8)).not.toBe(streamText(name, 7));
    }
  });

  it("every built-in validates and produces orders; last-unit is the default and small", () => {
    for (const [name, raw] of Object.entries(BUILTIN_SCENARIOS)) {
      const s = validateScenario(raw, name);
      expect(s.name).toBe(name);
      const st = generateStream(s, 1);
      expect(st.orders.length).toBeGreaterThan(0);
      // Sorted by intended send time, unique orderIds without a mix.
      expect(st.orders.every((o, i) => i === 0 || st.orders[i - 1]!.offsetMs <= o.offsetMs)).toBe(true);
      expect(new Set(st.orders.map((o) => o.orderId)).size).toBe(st.orders.length);
    }
    expect(DEFAULT_SCENARIO).toBe("last-unit");
    const lu = generateStream(loadScenario("last-unit"), 1);
    expect(lu.initialStock.every((x) => x.quantity === 1)).toBe(true);
    expect(lu.orders.length).toBeLessThanOrEqual(400);
    // Several orders for each product.
    const per = new Map<string, number>();
    for (const o of lu.orders) per.set(o.productId, (per.get(o.productId) ?? 0) + 1);
    expect([...per.values()].every((n) => n >= 2)).toBe(true);
    expect(per.size).toBe(lu.productIds.length);
  });

  it("hot-products is skewed and oversubscribed; flash-sale restocks after the burst began", () => {
    const hot = generateStream(loadScenario("hot-products"), 3);
    const per = new Map<string, number>();
    for (const o of hot.orders) per.set(o.productId, (per.get(o.productId) ?? 0) + o.quantity);
    const counts = [...per.values()].sort((a, b) => b - a);
    expect(counts[0]!).toBeGreaterThan(5 * (counts[Math.floor(counts.length / 2)] ?? 1));
    const demand = hot.orders.reduce((a, o) => a + o.quantity, 0);
    const stock = hot.initialStock.reduce((a, x) => a + x.quantity, 0);
    expect(demand).toBeGreaterThan(3 * stock);

    const flash = generateStream(loadScenario("flash-sale"), 3);
    expect(flash.restocks.length).toBe(flash.productIds.length);
    // The burst starts at t0; the restock comes after it started, with orders still to come.
    expect(flash.orders[0]!.offsetMs).toBeLessThan(flash.restocks[0]!.offsetMs);
    expect(flash.orders.filter((o) => o.offsetMs >= flash.restocks[0]!.offsetMs).length).toBeGreaterThan(100);
  });

  it("late-restock: the burst oversubscribes the stock, the restock comes seconds later, then a second wave", () => {
    const late = generateStream(loadScenario("late-restock"), 5);
    const at = late.restocks[0]!.offsetMs;
    expect(late.restocks.map((r) => r.offsetMs)).toEqual(late.productIds.map(() => at));
    const burst = late.orders.filter((o) => o.offsetMs < at),
      wave = late.orders.filter((o) => o.offsetMs >= at);
    expect(at - Math.max(...burst.map((o) => o.offsetMs))).toBeGreaterThanOrEqual(5000);
    expect(burst.length).toBeGreaterThan(late.initialStock.reduce((a, x) => a + x.quantity, 0));
    expect(wave.length).toBeGreaterThan(late.restocks.reduce((a, r) => a + r.quantity, 0));
  });

  it("a steady rate spaces orders evenly; a ramp accelerates", () => {
    const st = generateStream(
      validateScenario({
        ...lastUnit,
        demand: { quantity: 1 },
        timing: { kind: "rate", ratePerSec: 100, durationMs: 2000 },
      }),
      1,
    );
    expect(st.orders.length).toBe(200);
    expect(st.orders[1]!.offsetMs - st.orders[0]!.offsetMs).toBe(10);
    const ramp = generateStream(
      validateScenario({
        ...lastUnit,
        demand: {},
        timing: { kind: "ramp", stages: [{ durationMs: 2000, fromPerSec: 0, toPerSec: 200 }] },
      }),
      1,
    );
    expect(ramp.orders.length).toBeGreaterThanOrEqual(199);
    expect(ramp.orders.length).toBeLessThanOrEqual(200);
    const firstHalf = ramp.orders.filter((o) => o.offsetMs < 1000).length;
    expect(firstHalf).toBeLessThan(ramp.orders.length / 2);
  });
});

describe("invalid-order mix", () => {
  const mixed = (rate: number, kinds?: string[]) =>
    generateStream(
      validateScenario({
        ...lastUnit,
        products: { count: 50, initialStock: 1 },
        demand: { ordersPerProduct: 20 },
        invalid: { rate, kinds },
      }),
      5,
    );

  it("has exactly the requested rate and every requested kind, each order marked", () => {
    const st = mixed(0.1);
    const n = st.orders.length;
    const odd = st.orders.filter((o) => o.kind !== "normal");
    expect(odd.length).toBe(Math.round(0.1 * n));
    expect(new Set(odd.map((o) => o.kind))).toEqual(new Set(MIX_KINDS));
    for (const o of st.orders) {
      if (o.kind === "normal" || o.kind === "retry" || o.kind === "near-size-limit") {
        expect(o.valid).toBe(true);
        expect(o.invalidKind).toBeUndefined();
      } else {
        expect(o.valid).toBe(false);
        expect(o.invalidKind).toBe(o.kind);
      }
    }
  });

  it("each kind is what it says, judged by the contract's own parser", () => {
    const st = mixed(0.2);
    const known = new Set(st.productIds);
    for (const o of st.orders) {
      const value = orderValue(o, 1_700_000_000_000);
      const parsed = parseOrderRecord(o.key, value);
      switch (o.kind) {
        case "bad-json":
        case "wrong-types":
        case "missing-fields":
        case "zero-quantity":
        case "negative-quantity":
        case "huge-quantity":
          expect(parsed.ok, o.kind).toBe(false);
          break;
        case "unknown-product":
          expect(parsed.ok).toBe(true);
          expect(known.has(o.productId)).toBe(false);
          break;
        case "near-size-limit":
          expect(parsed.ok).toBe(true);
          expect(value.length).toBeGreaterThan(NEAR_LIMIT_BYTES - 100);
          expect(value.length).toBeLessThan(1_048_588 - 10_000);
          break;
        case "retry": {
          expect(o.duplicateSend).toBe(true);
          const first = st.orders.find((x) => x.orderId === o.orderId && x.kind === "normal")!;
          expect(first.offsetMs).toBeLessThanOrEqual(o.offsetMs);
          expect(orderValue(first, 1).toString()).toBe(orderValue(o, 1).toString());
          break;
        }
        default:
          expect(parsed.ok).toBe(true);
      }
    }
  });

  it("limits itself to the kinds asked for; rate 0 changes nothing", () => {
    const st = mixed(0.3, ["zero-quantity", "bad-json"]);
    expect(new Set(st.orders.filter((o) => o.kind !== "normal").map((o) => o.kind))).toEqual(
      new Set(["zero-quantity", "bad-json"]),
    );
    expect(mixed(0).orders.every((o) => o.kind === "normal")).toBe(true);
  });
});

describe("scenario validation", () => {
  it("a bad scenario file reports every bad field path at once", () => {
    const dir = mkdtempSync(join(tmpdir(), "oversell-scn-"));
    const file = join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "bad name!",
        products: { count: 0, initialStock: { dist: "uniform", min: 5, max: 2 } },
        demand: { quantity: { dist: "choice", values: [] } },
        timing: { kind: "rate", ratePerSec: -3 },
        invalid: { rate: 2, kinds: ["nope"] },
        typo: true,
      }),
    );
    let err: unknown;
    try {
      loadScenario(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect((err as InputError).exitCode).toBe(2);
    for (const path of [
      "name",
      "products.count",
      "products.initialStock.max",
      "demand.quantity.values",
      "timing.ratePerSec",
      "timing.durationMs",
      "invalid.rate",
      "invalid.kinds.0",
      "(top level)",
    ]) {
      expect(msg, path).toContain(`- ${path}:`);
    }
  });

  it("cross-field rules name the field", () => {
    const bad = (over: Partial<ScenarioInput>) => {
      try {
        validateScenario({ ...lastUnit, ...over });
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ demand: {} })).toContain("- demand: a burst needs one of");
    expect(bad({ demand: { orders: 10 }, timing: { kind: "rate", ratePerSec: 1, durationMs: 1000 } })).toContain(
      "- demand.orders: not allowed",
    );
    expect(
      bad({ products: { count: 3, initialStock: 1, restocks: [{ atMs: 0, quantity: 1, products: [7] }] } }),
    ).toContain("products.restocks.0.products.0");
    const steady = { demand: { quantity: 1 }, timing: { kind: "rate" as const, ratePerSec: 10, durationMs: 5000 } };
    expect(bad({ ...steady, warmupMs: 5000 })).toContain("- warmupMs: 5000 ms is not shorter than the load (5000 ms)");
    expect(bad({ ...steady, warmupMs: 4000 })).toBe("");
  });

  it("ratePerSec goes up to MAX_RATE_PER_SEC (above what one broker takes), and no further", () => {
    const at = (ratePerSec: number) => () =>
      validateScenario({ ...lastUnit, demand: { quantity: 1 }, timing: { kind: "rate", ratePerSec, durationMs: 10 } });
    expect(MAX_RATE_PER_SEC).toBeGreaterThanOrEqual(1_000_000);
    expect(at(250_000)).not.toThrow();
    expect(at(MAX_RATE_PER_SEC)).not.toThrow();
    expect(at(MAX_RATE_PER_SEC + 1)).toThrow(/timing\.ratePerSec/);
    expect(scenarioJsonSchema()).toContain(`"maximum": ${MAX_RATE_PER_SEC}`);
  });

  it("reads YAML files too", () => {
    const dir = mkdtempSync(join(tmpdir(), "oversell-scn-"));
    const file = join(dir, "s.yaml");
    writeFileSync(
      file,
      "name: tiny\nproducts: {count: 2, initialStock: 1}\ndemand: " +
        "{ordersPerProduct: 2}\ntiming: {kind: burst, windowMs: 10}\n",
    );
    const s = loadScenario(file);
    expect(generateStream(s, 1).orders.length).toBe(4);
  });

  it("the JSON Schema for editors is current", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(scenarioJsonSchema());
  });
});
