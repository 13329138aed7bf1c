// perf:checker — evaluate() (pure, no Kafka) on synthetic logs of N orders: ms per evaluation and
// orders/s. Two shapes per size: a clean non-confirming run (reserve or reject) and a confirming run
// (reserve, then confirm or cancel) with a sprinkle of anomalies so the example paths are exercised.
// Writes reports/perf/checker.json and checker.md. Usage: npm run perf:checker -- [--sizes 10000,100000,200000] [--runs
// 3]
import type { Decision, DecisionType } from "../../systems-under-test/contract/events.ts";
import { evaluate, type CheckInput, type ObservedDecision, type SentOrder } from "../../harness/checker/index.ts";
import { flagValue, isMain, machine, mdTable, numberList, writePerf } from "./common.ts";

const T0 = 1_750_000_000_000;

/** Deterministic: orders spread over 20 s, stock about 60% of demand, 10 orders per product. */
export function syntheticInput(n: number, confirms: boolean): CheckInput {
  const productCount = Math.max(1, Math.floor(n / 10));
  const orders: SentOrder[] = [];
  const decisions: ObservedDecision[] = [];
  const left = new Array<number>(productCount).fill(6);
  const offsets = new Array<number>(4).fill(0);
  const dec = (type: DecisionType, o: SentOrder, atMs: number, extra: Record<string, unknown> = {}) => {
    const partition = Number(o.orderId.slice(1)) % 4;
    const event = {
      type,
      orderId: o.orderId,
      productId: o.productId,
      quantity: o.quantity,
      instance: "0",
      ...extra,
    } as Decision;
    decisions.push({
      event,
      seenAtMs: atMs,
      recordTimestampMs: atMs,
      partition,
      offset: String(offsets[partition]!++),
    });
  };
  for (let i = 0; i < n; i++) {
    const intendedAtMs = T0 + Math.floor((i * 20_000) / n);
    const p = (i * 7919) % productCount;
    const o: SentOrder = {
      orderId: `o${i}`,
      productId: `p${p}`,
      quantity: 1,
      valid: true,
      intendedAtMs,
      sentAtMs: intendedAtMs + 1,
      ackAtMs: intendedAtMs + 4,
      status: "acked",
    };
    orders.push(o);
    const at = intendedAtMs + 20 + (i % 50);
    if (i % 997 === 13) continue; // a few undecided: "lost" examples
    if (left[p]! > 0) {
      left[p]!--;
      dec("OrderReserved", o, at);
      if (confirms) {
        if (i % 10 === 0) {
          dec("OrderCancelled", o, at + 100, { reason: "PAYMENT_FAILED" });
          left[p]!++;
        } else dec("OrderConfirmed", o, at + 100);
      }
    } else dec("OrderRejected", o, at, { reason: "OUT_OF_STOCK" });
    if (i % 1999 === 7) dec("OrderReserved", o, at + 5); // a few duplicates
  }
  return {
    confirms,
    claims: ["oversell", "duplicate", "conflict", "lost", "phantom", "stuck", "invalid-accepted"],
    products: Array.from({ length: productCount }, (_, p) => ({ productId: `p${p}`, initial: 6, restocked: 0 })),
    orders,
    decisions,
    malformedDecisions: [],
    abortedDecisions: [],
    reservationTtlMs: confirms ? 5000 : undefined,
    drainEndedAtMs: T0 + 60_000,
    drainComplete: false,
    expectedViolations: [],
    sutRunning: true,
    faults: [],
  };
}

export async function perfChecker(argv: string[]): Promise<string[]> {
  const sizes = numberList(flagValue(argv, "sizes"), [10_000, 100_000, 200_000]);
  const runs = Number(flagValue(argv, "runs") ?? 3);
  const rows: {
    orders: number;
    decisions: number;
    confirms: boolean;
    runsMs: number[];
    medianMs: number;
    ordersPerSec: number;
    verdict: string;
  }[] = [];
  for (const n of sizes) {
    for (const confirms of [false, true]) {
      const input = syntheticInput(n, confirms);
      evaluate(syntheticInput(Math.min(n, 2000), confirms)); // warm-up (JIT) on a small log
      const runsMs: number[] = [];
      let verdict = "";
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        verdict = evaluate(input).verdict;
        runsMs.push(Number((performance.now() - t).toFixed(1)));
      }
      const medianMs = [...runsMs].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
      rows.push({
        orders: n,
        decisions: input.decisions.length,
        confirms,
        runsMs,
        medianMs,
        ordersPerSec: Math.round(n / (medianMs / 1000)),
        verdict,
      });
      console.error(
        `${n} orders (${confirms ? "confirming" : "non-confirming"}): median ${medianMs} ` +
          `ms over ${runs} (${runsMs.join(", ")}), ${rows.at(-1)!.ordersPerSec} orders/s`,
      );
    }
  }
  const m = machine();
  const md = [
    "# perf:checker — evaluate() on synthetic logs",
    "",
    `median of ${runs} runs after a warm-up; ${JSON.stringify(m)}`,
    "",
    mdTable(
      ["orders", "decisions", "SUT kind", "median ms", "orders/s", "runs ms"],
      rows.map((r) => [
        r.orders,
        r.decisions,
        r.confirms ? "confirming" : "non-confirming",
        r.medianMs,
        r.ordersPerSec,
        r.runsMs.join(", "),
      ]),
    ),
  ].join("\n");
  return writePerf("checker", { kind: "perf:checker", runs, machine: m, rows }, md);
}

if (isMain(import.meta.url)) {
  const files = await perfChecker(process.argv.slice(2));
  console.log(`written: ${files.join(", ")}`);
}
