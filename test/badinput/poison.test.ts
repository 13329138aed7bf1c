// Poison pills: every SUT gets one stream with half of it malformed or invalid (every kind of the
// scenario's mix), in one bench run against the test broker. Claimants of invalid-accepted reserve
// none; no SUT crashes; every valid order is decided; a retried orderId is decided once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate, type ObservedDecision, type SentOrder } from "../../harness/checker/index.ts";
import { runBench } from "../../harness/run/bench.ts";
import { Progress } from "../../harness/run/progress.ts";
import { generateStream, HUGE_QUANTITY_VARIANTS } from "../../harness/scenario/generate.ts";
import { MIX_KINDS, type ScenarioInput } from "../../harness/scenario/schema.ts";
import { validateScenario } from "../../harness/scenario/load.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { testConnection } from "../support/kafka.ts";
import { outcomesByKind, runProcesses, type KindOutcome } from "./support.ts";

const SUTS = ["naive", "keyed-transactional", "saga", "kafka-streams"];
const INVALID_KINDS = MIX_KINDS.filter((k) => k !== "near-size-limit" && k !== "retry");

// 90 orders, 60% of them mixed in: 54 → six of each of the nine kinds (every huge-quantity variant at least once).
const scenario = validateScenario({
  name: "poison-pills",
  products: { count: 10, initialStock: 3 },
  demand: { ordersPerProduct: 9 },
  timing: { kind: "burst", windowMs: 1500 },
  invalid: { rate: 0.6 },
  kafka: { partitions: 2 },
  drainTimeoutMs: 45_000,
} satisfies ScenarioInput);

let stderr = "";
afterAll(() => {
  if (stderr) console.log(stderr);
});

describe("the poison metric (pure)", () => {
  it(
    "valid orders right behind an invalid record on one partition " +
      "are measured apart; undecided valid orders are counted",
    () => {
      const T0 = 1_750_000_000_000;
      const o = (orderId: string, partition: number, offset: number, valid = true): SentOrder => ({
        orderId,
        productId: valid ? "p" : "",
        quantity: valid ? 1 : 0,
        valid,
        intendedAtMs: T0,
        sentAtMs: T0,
        ackAtMs: T0 + 1,
        status: "acked",
        partition,
        offset: String(offset),
      });
      const orders = [
        o("bad", 0, 10, false),
        o("behind", 0, 11),
        o("next", 0, 12),
        o("elsewhere", 1, 5),
        o("undecided", 1, 6),
      ];
      const d = (
        orderId: string,
        ms: number,
        type: "OrderReserved" | "OrderRejected" = "OrderReserved",
      ): ObservedDecision => ({
        event:
          type === "OrderRejected"
            ? { type, orderId, productId: "", quantity: 0, instance: "0", reason: "INVALID" }
            : { type, orderId, productId: "p", quantity: 1, instance: "0" },
        seenAtMs: T0 + ms,
        recordTimestampMs: T0 + ms,
        partition: 0,
        offset: "0",
      });
      const e = evaluate({
        confirms: false,
        claims: ["lost"],
        products: [{ productId: "p", initial: 10, restocked: 0 }],
        orders,
        decisions: [d("bad", 5, "OrderRejected"), d("behind", 900), d("next", 20), d("elsewhere", 30)],
        malformedDecisions: [],
        abortedDecisions: [],
        drainEndedAtMs: T0 + 60_000,
        drainComplete: false,
        expectedViolations: [],
        sutRunning: true,
        faults: [],
      });
      expect(e.poison.invalid).toBe(1);
      expect(e.poison.validUndecided).toBe(1);
      expect(e.poison.afterPoison).toMatchObject({ count: 1, max: 900_000 });
      expect(e.poison.otherValid).toMatchObject({ count: 2, max: 30_000 });
    },
  );
});

describe("poison pills in the order stream", () => {
  it("the mix covers every kind, and every huge-quantity variant (2^53 and beyond)", () => {
    const st = generateStream(scenario, 11);
    const kinds = new Map<string, number>();
    for (const o of st.orders) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    for (const k of MIX_KINDS) expect(kinds.get(k), k).toBeGreaterThan(0);
    const huge = st.orders.filter((o) => o.kind === "huge-quantity").map((o) => o.raw ?? JSON.stringify(o.body));
    for (const v of HUGE_QUANTITY_VARIANTS)
      expect(
        huge.some((text) => text.includes(`"quantity":${typeof v === "number" ? JSON.stringify(v) : v}`)),
        String(v),
      ).toBe(true);
    for (const o of st.orders)
      expect(o.valid, o.kind).toBe(o.kind === "normal" || o.kind === "retry" || o.kind === "near-size-limit");
  });

  it(
    "naive, keyed-transactional, saga, kafka-streams: no invalid " +
      "order reserved by a claimant, no crash, no valid order lost",
    async () => {
      const out = mkdtempSync(join(tmpdir(), "oversell-poison-"));
      const runId = `poison-${Date.now().toString(36)}`;
      const progress = new Progress(
        { write: (s: string) => ((stderr += s), true), isTTY: false } as unknown as NodeJS.WriteStream,
        true,
      );
      const stream = generateStream(scenario, 11);
      const t0 = Date.now();
      const { result, summary } = await runBench({
        suts: SUTS,
        scenario,
        seed: 11,
        connection: testConnection(),
        outDir: out,
        runId,
        instances: 1,
        progress,
      });
      console.log(`poison bench: ${((Date.now() - t0) / 1000).toFixed(1)} s, run folder ${out}`);
      expect(result.suts.map((s) => s.name)).toEqual(SUTS);

      const table: KindOutcome[] = [];
      for (const s of result.suts) {
        const m = loadManifest(s.name);
        const why = `${s.name}: ${s.verdictReason ?? ""} ${JSON.stringify(s.poison)}`;
        expect(s.verdict, why).not.toBe("unknown");
        expect(s.crashes ?? [], why).toEqual([]);
        expect(s.orders.acked, why).toBe(new Set(stream.orders.map((o) => o.orderId)).size);
        expect(s.orders.invalid, why).toBeGreaterThanOrEqual(40);
        // Every valid order decided (none lost or stuck behind a poison pill), and every invalid one answered too.
        expect(s.poison, why).toBeDefined();
        expect(s.poison!.validUndecided, why).toBe(0);
        expect(s.violations.lost!.count, why).toBe(0);
        expect(s.poison!.afterPoison.count! + s.poison!.otherValid.count!, why).toBeGreaterThan(0);
        if (m.claims.includes("invalid-accepted")) expect(s.violations["invalid-accepted"]!.count, why).toBe(0);
        if (m.claims.includes("duplicate")) expect(s.violations.duplicate!.count, why).toBe(0);
        for (const c of m.claims) expect(s.violations[c]!.count, `${s.name} claims ${c}`).toBe(0);

        const kinds = await outcomesByKind(testConnection(), out, s.name, m.confirms);
        table.push(...kinds);
        expect(kinds.map((k) => k.kind).sort()).toEqual(["normal", ...MIX_KINDS].sort());
        for (const k of kinds)
          expect(k.outcomes.none ?? 0, `${s.name} ${k.kind}: ${JSON.stringify(k.outcomes)}`).toBe(0);
        if (m.claims.includes("invalid-accepted")) {
          // Each contract-breaking kind: rejected, with the reason the contract names.
          for (const k of kinds.filter((x) => (INVALID_KINDS as readonly string[]).includes(x.kind))) {
            const want = k.kind === "unknown-product" ? "OrderRejected UNKNOWN_PRODUCT" : "OrderRejected INVALID";
            expect(Object.keys(k.outcomes), `${s.name} ${k.kind}`).toEqual([want]);
          }
        }
        // A retried orderId: one decision (the retry adds none).
        const retry = kinds.find((k) => k.kind === "retry")!;
        if (m.claims.includes("duplicate"))
          for (const label of Object.keys(retry.outcomes))
            expect(
              label.split(" + ").filter((x) => x !== "OrderReserved" || !m.confirms).length,
              `${s.name} retry ${label}`,
            ).toBe(1);
      }
      // The Java SUT's own parser, on huge quantities (2^53, 2^64, 1e300, 2^53+1 and 1e400 as JSON literals): all
      // INVALID.
      expect(table.find((k) => k.sut === "kafka-streams" && k.kind === "huge-quantity")!.outcomes).toEqual({
        "OrderRejected INVALID": stream.orders.filter((o) => o.kind === "huge-quantity").length,
      });
      expect(runProcesses(runId)).toEqual([]);
      for (const s of result.suts)
        expect(summary).toContain(
          `  ${s.name}: ${s.poison!.invalid} invalid, 0 valid undecided; decision p50/p99 right behind one `,
        );

      console.log(
        [
          "| SUT | kind | sent | outcomes |",
          "|---|---|---|---|",
          ...table.map(
            (k) =>
              `| ${k.sut} | ${k.kind} | ${k.sent} | ${Object.entries(k.outcomes)
                .map(([o, n]) => `${o} ×${n}`)
                .join(", ")} |`,
          ),
        ].join("\n"),
      );
      console.log(
        [
          "| SUT | verdict | invalid | valid undecided | crashes | invalid-accepted | duplicate " +
            "| decision p50 behind a poison pill (n) | p50 other valid (n) | p99 behind / other |",
          "|---|---|---|---|---|---|---|---|---|---|",
          ...result.suts.map(
            (s) =>
              `| ${s.name} | ${s.verdict} | ${s.poison!.invalid} | ` +
              `${s.poison!.validUndecided} | ${(s.crashes ?? []).length} | ` +
              `${s.violations["invalid-accepted"]!.count} | ${s.violations.duplicate!.count} ` +
              `| ${(s.poison!.afterPoison.p50 / 1000).toFixed(0)} ` +
              `ms (${s.poison!.afterPoison.count}) | ` +
              `${(s.poison!.otherValid.p50 / 1000).toFixed(0)} ms (${s.poison!.otherValid.count}) ` +
              `| ${(s.poison!.afterPoison.p99 / 1000).toFixed(0)} ` +
              `/ ${(s.poison!.otherValid.p99 / 1000).toFixed(0)} ms |`,
          ),
        ].join("\n"),
      );
    },
    300_000,
  );
});
