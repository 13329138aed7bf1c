// history.ndjson written as the run goes and read back for the checker, also after a crash mid-line.
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readHistory, readRunHistory, runStart, sutHistory } from "../../harness/history/read.ts";
import { HistoryWriter } from "../../harness/history/writer.ts";
import { BUILTIN_SCENARIOS, generateStream, validateScenario } from "../../harness/scenario/index.ts";

describe("history", () => {
  it(
    "milestones are on disk at once; order lines after a " +
      "flush; a torn last line is skipped; statuses fold per send",
    () => {
      const file = join(mkdtempSync(join(tmpdir(), "oversell-hist-")), "history.ndjson");
      const scenario = validateScenario({
        ...BUILTIN_SCENARIOS["last-unit"],
        products: { count: 2, initialStock: 1 },
        demand: { ordersPerProduct: 2 },
      });
      const stream = generateStream(scenario, 1);
      const h = new HistoryWriter(file, { flushEveryMs: 60_000 });
      h.mark({
        type: "run-start",
        runId: "r1",
        seed: 1,
        scenario,
        kafka: { bootstrap: "127.0.0.1:1", brokers: 1, embedded: true },
        connection: "127.0.0.1:1",
        suts: ["x"],
        driver: "kafka",
      });
      expect(readFileSync(file, "utf8").split("\n").filter(Boolean).length).toBe(1);
      h.mark({
        type: "sut-start",
        sut: "x",
        ns: "oversell.r1.x",
        instances: 1,
        confirms: false,
        claims: ["oversell"],
        expectedViolations: [],
        partitions: 4,
      });
      h.mark({ type: "stock", sut: "x", event: "StockSet", items: stream.initialStock, status: "acked" });
      h.mark({ type: "load-start", sut: "x", loadStartMs: 1000, orders: stream.orders.length, driver: "kafka" });
      const [a, b, c] = stream.orders;
      for (const o of [a!, b!, c!]) {
        h.write({
          type: "sent",
          sut: "x",
          seq: o.seq,
          orderId: o.orderId,
          productId: o.productId,
          quantity: o.quantity,
          valid: true,
          kind: "normal",
          intendedAtMs: 1000 + o.offsetMs,
          sentAtMs: 1001 + o.offsetMs,
        });
      }
      h.write({ type: "ack", sut: "x", seq: a!.seq, orderId: a!.orderId, partition: 1, offset: "0", ackAtMs: 1100 });
      h.write({
        type: "send-error",
        sut: "x",
        seq: b!.seq,
        orderId: b!.orderId,
        status: "failed",
        error: "refused",
        atMs: 1100,
      });
      // Buffered, not yet on disk: a batch.
      expect(readFileSync(file, "utf8")).not.toContain('"type":"sent"');
      h.flush();
      expect(readFileSync(file, "utf8")).toContain('"type":"ack"');
      h.close();
      appendFileSync(file, '{"t":1,"type":"ack","sut":"x","se'); // a crash mid-write

      const { events, skipped } = readHistory(file);
      expect(skipped).toBe(1);
      expect(runStart(events)?.runId).toBe("r1");
      const x = sutHistory(events, "x", stream)!;
      expect(x.orders.length).toBe(stream.orders.length);
      expect(x.orders[0]).toMatchObject({
        orderId: a!.orderId,
        status: "acked",
        ackAtMs: 1100,
        sentAtMs: 1001 + a!.offsetMs,
      });
      expect(x.orders[1]!.status).toBe("failed");
      expect(x.orders[2]!.status).toBe("unknown"); // sent, never answered
      expect(x.orders[3]!.status).toBe("unsent"); // known only from the regenerated stream
      expect(x.orders[3]!.intendedAtMs).toBe(1000 + stream.orders[3]!.offsetMs);
      expect(x.products).toEqual(
        // No restock sent: an empty list of restock sends (oversell-in-time), not unknown send times.
        stream.initialStock.map((s) => ({ productId: s.productId, initial: s.quantity, restocked: 0, restocks: [] })),
      );
    },
  );

  it("a line that is not a history event is an error naming the file and line; streamed reading agrees", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "oversell-hist-")), "history.ndjson");
    const h = new HistoryWriter(file);
    h.mark({
      type: "sut-start",
      sut: "x",
      ns: "oversell.r1.x",
      instances: 1,
      confirms: false,
      claims: [],
      expectedViolations: [],
      partitions: 1,
    });
    h.close();
    appendFileSync(
      file,
      '{"t":1,"type":"ack","sut":"x","seq":"three","orderId":"o1","ackAtMs":5}\n' +
        '{"t":2,"type":"run-end","verdict":"pass"}\n',
    );
    expect(() => readHistory(file)).toThrow(/history\.ndjson:2: not a history line: seq: /);
    await expect(readRunHistory(file)).rejects.toThrow(/history\.ndjson:2: not a history line: seq: /);
  });
});
