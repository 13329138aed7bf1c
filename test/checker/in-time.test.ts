// oversell-in-time on synthetic logs: flagged when held units certainly exceeded the stock of that instant,
// never on what timing cannot settle (the margins, releases, decisions whose record time is earlier than seen).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Decision, DecisionType } from "../../systems-under-test/contract/events.ts";
import {
  evaluate,
  finish,
  Judge,
  OrderBook,
  type CheckInput,
  type ObservedDecision,
  type ProductStock,
  type SentOrder,
} from "../../harness/checker/index.ts";
import { IN_TIME_MARGIN_MS as M } from "../../harness/checker/in-time.ts";
import { readRunHistory } from "../../harness/history/read.ts";
import { HistoryWriter } from "../../harness/history/writer.ts";

const T0 = 1_750_000_000_000;
let nextOffset = 0;

function order(orderId: string, productId = "p1", quantity = 1): SentOrder {
  return { orderId, productId, quantity, valid: true, intendedAtMs: T0, sentAtMs: T0 + 1, status: "acked" };
}

/** A decision seen `seen` ms after T0 (record time `ts`, default the same). */
function dec(type: DecisionType, o: SentOrder, seen: number, partition = 0, ts = seen): ObservedDecision {
  const extra = type === "OrderCancelled" ? { reason: "PAYMENT_FAILED" } : {};
  const event = { type, orderId: o.orderId, productId: o.productId, quantity: o.quantity, instance: "0", ...extra };
  return {
    event: event as Decision,
    seenAtMs: T0 + seen,
    recordTimestampMs: T0 + ts,
    partition,
    offset: String(nextOffset++),
  };
}

/** p1 with stock `initial` and restocks of `qty` sent at the given offsets (acked). */
function p1(initial: number, restocks: [atMs: number, qty: number][] = []): ProductStock {
  return {
    productId: "p1",
    initial,
    restocked: restocks.reduce((a, [, q]) => a + q, 0),
    restocks: restocks.map(([at, quantity]) => ({ sentAtMs: T0 + at, quantity })),
  };
}

function input(over: Partial<CheckInput>): CheckInput {
  return {
    confirms: false,
    claims: ["oversell", "oversell-in-time"],
    products: [],
    orders: [],
    decisions: [],
    malformedDecisions: [],
    abortedDecisions: [],
    drainEndedAtMs: T0 + 60_000,
    drainComplete: true,
    expectedViolations: [],
    sutRunning: true,
    faults: [],
    ...over,
  };
}

const a = order("a"),
  b = order("b"),
  c = order("c");

describe("oversell-in-time: sold ahead of a restock", () => {
  it("flags units held before the restock that made them exist, while the end state holds", () => {
    const e = evaluate(
      input({
        products: [p1(1, [[5000, 1]])],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 200, 1)],
      }),
    );
    expect(e.violations.oversell.count).toBe(0);
    const v = e.violations["oversell-in-time"];
    expect(v.count).toBe(1);
    expect(v.examples[0]!.id).toBe("p1");
    expect(v.examples[0]!.instant).toEqual({ atMs: T0 + 200 + M, stock: 1, held: 2, restocksBefore: 0 });
    expect((v.examples[0]!.events as { orderId: string }[]).map((h) => h.orderId)).toEqual(["a", "b"]);
    expect(v.examples[0]!.detail).toContain("the stock then was 1");
    expect(e.verdict).toBe("fail");
    expect(e.verdictReason).toContain("oversell-in-time (1)");
    expect(e.inTime).toEqual({ judged: true, marginMs: M });
  });

  it("reports every unit held at the first violating instant (decisions seen in one batch)", () => {
    const e = evaluate(
      input({
        products: [p1(1, [[5000, 2]])],
        orders: [a, b, c],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 100), dec("OrderReserved", c, 100)],
      }),
    );
    const ex = e.violations["oversell-in-time"].examples[0]!;
    expect(ex.instant).toEqual({ atMs: T0 + 100 + M, stock: 1, held: 3, restocksBefore: 0 });
    expect(ex.events).toHaveLength(3);
    expect(ex.detail).toContain("3 orders");
  });

  it("holds when the restock was sent before the units were sold", () => {
    const e = evaluate(
      input({
        products: [p1(1, [[1000, 1]])],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 3000)],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(0);
    expect(e.verdict).toBe("pass");
  });

  it("counts a refused restock send too (it may have been stored), though S(p) leaves it out", () => {
    const restocks = [{ sentAtMs: T0 + 1000, quantity: 1 }];
    const e = evaluate(
      input({
        products: [{ productId: "p1", initial: 1, restocked: 0, restocks }],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 3000)],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(0);
    expect(e.violations.oversell.count).toBe(1);
  });
});

describe("oversell-in-time: the margins", () => {
  // Restock sent at 5000: it counts from 5000 − M; b's hold counts from its seen time + M.
  const seenAt = (bSeen: number) =>
    evaluate(
      input({
        products: [p1(1, [[5000, 1]])],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, bSeen)],
      }),
    ).violations["oversell-in-time"].count;

  it("no flag when the sale was seen less than two margins before the restock was sent", () => {
    expect(seenAt(5000 - 2 * M + 1)).toBe(0);
    expect(seenAt(5000 - M)).toBe(0);
  });

  it("a tie (held from exactly when the restock counts) is no flag; one ms earlier is", () => {
    expect(seenAt(5000 - 2 * M)).toBe(0);
    expect(seenAt(5000 - 2 * M - 1)).toBe(1);
  });
});

describe("oversell-in-time: releases", () => {
  it("a cancelled hold may have been released any time after it was sent: re-selling its unit is no flag", () => {
    const e = evaluate(
      input({
        confirms: true,
        products: [p1(1)],
        orders: [a, b],
        decisions: [
          dec("OrderReserved", a, 100),
          dec("OrderReserved", b, 1000, 1),
          dec("OrderConfirmed", b, 1100, 1),
          dec("OrderCancelled", a, 4000), // written long after b's sale (saga: the order side writes it later)
        ],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(0);
    expect(e.violations.oversell.count).toBe(0);
  });

  it("an expired hold counts until its first send + TTL − margin: a re-sale before that is flagged", () => {
    const run = (bSeen: number) =>
      evaluate(
        input({
          confirms: true,
          reservationTtlMs: 5000,
          products: [p1(1)],
          orders: [a, b],
          decisions: [
            dec("OrderReserved", a, 100),
            dec("OrderReserved", b, bSeen, 1),
            dec("OrderConfirmed", b, bSeen + 50, 1),
            dec("ReservationExpired", a, 7000),
          ],
        }),
      );
    // a was sent at T0 + 1: it cannot have expired before T0 + 1 + 5000; counted until then − M.
    const early = run(1000);
    expect(early.violations["oversell-in-time"].count).toBe(1);
    expect(early.violations["oversell-in-time"].examples[0]!.instant!.held).toBe(2);
    expect(early.violations.oversell.count).toBe(0);
    expect(run(5001 - 2 * M).violations["oversell-in-time"].count).toBe(0);
    expect(run(5001 - 2 * M - 1).violations["oversell-in-time"].count).toBe(1);
  });

  it("without a TTL an expiry bounds nothing: no flag", () => {
    const e = evaluate(
      input({
        confirms: true,
        products: [p1(1)],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 1000, 1), dec("ReservationExpired", a, 7000)],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(0);
  });
});

describe("oversell-in-time: several partitions", () => {
  it("judges by when each decision was seen, not by its record time or the order of partitions", () => {
    // b's record time (like Kafka Streams' input timestamp) is before the restock, but it was seen after:
    // it may have used the restock. a and c were seen early on other partitions.
    const decisions = [
      dec("OrderReserved", b, 4900, 2, 50),
      dec("OrderReserved", a, 100, 1),
      dec("OrderReserved", c, 150, 0),
    ];
    const base = { orders: [a, b, c], decisions };
    expect(evaluate(input({ ...base, products: [p1(2, [[5000, 1]])] })).violations["oversell-in-time"].count).toBe(0);
    // With one unit less, a and c alone exceed it before the restock.
    const e = evaluate(input({ ...base, products: [p1(1, [[5000, 2]])] }));
    expect(e.violations["oversell-in-time"].count).toBe(1);
    expect(
      (e.violations["oversell-in-time"].examples[0]!.events as { orderId: string }[]).map((h) => h.orderId),
    ).toEqual(["a", "c"]);
  });

  it("counts a product once, and each product separately", () => {
    const d = order("d", "p2"),
      f = order("f", "p2");
    const e = evaluate(
      input({
        products: [p1(1, [[9000, 5]]), { productId: "p2", initial: 1, restocked: 0, restocks: [] }],
        orders: [a, b, c, d, f],
        decisions: [
          dec("OrderReserved", a, 100),
          dec("OrderReserved", b, 200),
          dec("OrderReserved", c, 300, 1),
          dec("OrderReserved", d, 100, 2),
          dec("OrderRejected", f, 200, 2),
        ],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(1);
    expect(e.violations["oversell-in-time"].examples[0]!.instant).toMatchObject({ stock: 1, held: 2 });
  });
});

describe("oversell-in-time: when it cannot be judged", () => {
  it("restocks without send times (an old history): the product is left out, with a note", () => {
    const e = evaluate(
      input({
        products: [{ productId: "p1", initial: 1, restocked: 1 }],
        orders: [a, b],
        decisions: [dec("OrderReserved", a, 100), dec("OrderReserved", b, 200)],
      }),
    );
    expect(e.violations["oversell-in-time"].count).toBe(0);
    expect(e.inTime.note).toMatch(/1 product\(s\) not judged in time/);
  });

  it("seen times that are record times (a re-read after the run): not judged, and not part of the verdict", () => {
    const book = OrderBook.fromSentOrders([a, b]);
    const j = new Judge(book, { confirms: false, products: [p1(1, [[5000, 1]])], seenIsLive: false });
    for (const d of [dec("OrderReserved", a, 100), dec("OrderReserved", b, 200)])
      j.decide(d.event, d.partition, d.seenAtMs, d.recordTimestampMs);
    const { evaluation } = finish(j, {
      claims: ["oversell", "oversell-in-time"],
      expectedViolations: [],
      drainEndedAtMs: T0 + 60_000,
      drainComplete: true,
      sutRunning: true,
      malformedDecisions: 0,
      abortedDecisions: [],
    });
    expect(evaluation.inTime.judged).toBe(false);
    expect(evaluation.judged).not.toContain("oversell-in-time");
    expect(evaluation.verdict).toBe("pass");
  });
});

describe("history: restock send times", () => {
  const dir = mkdtempSync(join(tmpdir(), "oversell-intime-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are read back per product, refused sends included; a line without one makes the product's unknown", async () => {
    const file = join(dir, "history.ndjson");
    const h = new HistoryWriter(file);
    h.mark({
      type: "sut-start",
      sut: "s",
      ns: "n",
      instances: 1,
      confirms: false,
      claims: [],
      expectedViolations: [],
      partitions: 1,
    });
    const items = (q: number) => [
      { productId: "p1", quantity: q },
      { productId: "p2", quantity: q },
    ];
    h.mark({ type: "stock", sut: "s", event: "StockSet", items: items(5), status: "acked" });
    h.mark({ type: "stock", sut: "s", event: "StockAdded", items: items(2), sentAtMs: T0 + 10, status: "acked" });
    h.mark({ type: "stock", sut: "s", event: "StockAdded", items: items(3), sentAtMs: T0 + 20, status: "failed" });
    h.mark({
      type: "stock",
      sut: "s",
      event: "StockAdded",
      items: [{ productId: "p2", quantity: 1 }],
      status: "acked",
    });
    h.close();
    const meta = (await readRunHistory(file)).suts[0]!;
    expect(meta.products).toEqual([
      {
        productId: "p1",
        initial: 5,
        restocked: 2,
        restocks: [
          { sentAtMs: T0 + 10, quantity: 2 },
          { sentAtMs: T0 + 20, quantity: 3 },
        ],
      },
      { productId: "p2", initial: 5, restocked: 3 },
    ]);
  });
});
