// The cross-check: Kafka's Java consumer lists the committed decisions and must agree, offset by offset, with
// what the (patched) kafkajs reader delivered; any difference is reported, never silent. Real broker.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Producer } from "kafkajs";
import { encode, type Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { startDecisionWatch } from "../../harness/checker/index.ts";
import { Comparison, crossCheck, javaClientProperties, valueHash } from "../../harness/checker/cross-check.ts";
import { DecisionStore, readStore } from "../../harness/checker/store.ts";
import { withCrossCheck } from "../../harness/run/judge.ts";
import { unknownResult } from "../../harness/run/results.ts";
import { crossCheckLine } from "../../harness/report/summary.ts";
import { createTopics, testConnection, testKafka, uniqueNs } from "../support/kafka.ts";

const kafka = testKafka("checker-cross-check");
const open: { disconnect(): Promise<void> }[] = [];
const dir = mkdtempSync(join(tmpdir(), "oversell-cross-check-test-"));
afterAll(async () => {
  await Promise.all(open.map((c) => c.disconnect().catch(() => {})));
  rmSync(dir, { recursive: true, force: true });
});

const decision = (type: Decision["type"], orderId: string, instance: string): Decision =>
  type === "OrderRejected"
    ? { type, orderId, productId: "p", quantity: 1, instance, reason: "OUT_OF_STOCK" }
    : ({ type, orderId, productId: "p", quantity: 1, instance } as Decision);
const message = (d: Decision) => ({ key: "p", value: encode(d) });

async function txProducer(id: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  open.push(p);
  await p.connect();
  return p;
}

/** Reads ns's decisions with the checker's reader into a run record; returns what it passed. */
async function mainRead(ns: string, file: string, orders: number) {
  const store = new DecisionStore(file, { sut: "t", ns, confirms: false });
  let seen = 0;
  const counting = {
    decision: (...a: Parameters<DecisionStore["decision"]>) => {
      seen++;
      store.decision(...a);
    },
    malformed: (p: number, o: string, r: string) => store.malformed(p, o, r),
  };
  const watch = startDecisionWatch({ connection: testConnection(), ns, confirms: false, sink: counting });
  const res = await watch.done(Date.now() + 60_000, { pending: () => Math.max(0, orders - seen), owed: orders });
  await store.close({ ...res, aborted: res.abortedDecisions, undecided: res.undecidedCount });
  return res;
}

describe("Comparison (pure)", () => {
  const h = (s: string) => valueHash(s);
  it("agrees on equal listings and names each kind of difference", () => {
    const same = new Comparison();
    same.main(0, 3, h("a"));
    same.main(0, 7, undefined); // malformed: compared by offset only
    same.java(0, 3, h("a"));
    same.java(0, 7, h("whatever"));
    expect(same.finish(new Map([[0, 8n]]))).toEqual([{ partition: 0, main: 2, java: 2, readThrough: "8" }]);
    expect(same.differences).toBe(0);

    const c = new Comparison();
    c.main(0, 1, h("a")); // Java lists nothing at 1: extra (e.g. an aborted record leaked)
    c.main(0, 4, h("b")); // value differs
    c.main(1, 2, h("x")); // the Java read never got here: extra
    c.java(0, 3, h("c")); // missing from the main side
    c.java(0, 4, h("B"));
    c.finish(new Map());
    expect(c.examples.map((e) => `${e.partition}:${e.offset}:${e.kind}`)).toEqual([
      "0:1:extra",
      "0:3:missing",
      "0:4:value",
      "1:2:extra",
    ]);
    expect(c.differences).toBe(4);
  });

  it("hashes a multi-line value as the record keeps it (line breaks as spaces)", () => {
    expect(valueHash('{"a":\n1}')).toEqual(valueHash('{"a": 1}'));
    expect(valueHash('{"a":1}')).not.toEqual(valueHash('{"a":2}'));
  });

  it("writes the connection as Java client properties (TLS and SASL)", () => {
    const p = javaClientProperties({
      brokers: ["127.0.0.1:9092"],
      sasl: { mechanism: "scram-sha-256", username: "u", password: 'p"w' },
    });
    expect(p).toContain("security.protocol=SASL_PLAINTEXT");
    expect(p).toContain("sasl.mechanism=SCRAM-SHA-256");
    expect(p).toContain('password="p\\\\"w"');
  });
});

describe("crossCheck against the real broker", () => {
  it("agrees with the fixed kafkajs reader on two interleaved aborted transactions on one partition", async () => {
    const ns = uniqueNs("cross-interleaved");
    const topic = topicsFor(ns).decisions;
    await createTopics(testConnection(), [topic, topicsFor(ns).orders], 2);
    const [pa, pb, pc] = await Promise.all(["a", "b", "c"].map((x) => txProducer(`${ns}.tx-${x}`)));
    const t0 = await pc!.transaction();
    await t0.send({ topic, messages: [message(decision("OrderReserved", "o1", "C0"))] });
    await t0.commit();
    // One key, one partition: A opens first, B second, B aborts first (the pattern kafkajs 2.2.4 leaks).
    const ta = await pa!.transaction(),
      tb = await pb!.transaction();
    await ta.send({ topic, messages: [message(decision("OrderReserved", "o2", "A1"))] });
    await tb.send({ topic, messages: [message(decision("OrderReserved", "o2", "B1"))] });
    await ta.send({ topic, messages: [message(decision("OrderReserved", "o3", "A2"))] });
    await tb.abort();
    await ta.abort();
    const t1 = await pc!.transaction();
    await t1.send({
      topic,
      messages: [message(decision("OrderRejected", "o2", "C1")), message(decision("OrderReserved", "o3", "C2"))],
    });
    await t1.commit();

    const file = join(dir, "interleaved.decisions.ndjson.gz");
    const res = await mainRead(ns, file, 3);
    expect(res.abortedDecisions.map((d) => d.instance).sort()).toEqual(["A1", "A2", "B1"]);
    const cc = await crossCheck({
      connection: testConnection(),
      topic,
      storeFile: file,
      readThrough: res.readThrough,
      listingFile: join(dir, "interleaved.cross-check.tsv.gz"),
    });
    expect(cc.error).toBeUndefined();
    expect(cc.examples).toEqual([]);
    expect(cc.agreed).toBe(true);
    expect(cc.records).toBe(3);
    expect(cc.partitions.reduce((n, p) => n + p.main, 0)).toBe(3);

    // The same topic against a record that also holds an aborted record (what unpatched kafkajs delivered),
    // misses a committed one and has one value changed: every difference is named.
    const bad = join(dir, "tampered.decisions.ndjson.gz");
    const store = new DecisionStore(bad, { sut: "t", ns, confirms: false });
    const dFile = new Map<string, { p: number; o: string; d: Decision }>();
    const raw = await readStore(file, { decision: (d, p, o) => dFile.set(d.instance, { p, o, d }) });
    expect(raw.end.decisions).toBe(3);
    const c0 = dFile.get("C0")!,
      c1 = dFile.get("C1")!,
      c2 = dFile.get("C2")!;
    const put = (x: { p: number; o: string; d: Decision }) => store.decision(x.d, x.p, x.o, 0, 0, JSON.stringify(x.d));
    put(c0);
    // A1's offset: C0, its commit marker, then A1 (aborted: the Java consumer does not list it).
    put({ p: c0.p, o: String(Number(c0.o) + 2), d: decision("OrderReserved", "o2", "A1") });
    put({ ...c2, d: { ...c2.d, quantity: 5 } });
    await store.close({
      aborted: [],
      drainEndedAtMs: 0,
      drainComplete: true,
      undecided: 0,
      warnings: [],
    });
    // C1 is left out: the main side "missed" it.
    const diff = await crossCheck({
      connection: testConnection(),
      topic,
      storeFile: bad,
      readThrough: res.readThrough,
      listingFile: join(dir, "tampered.cross-check.tsv.gz"),
    });
    expect(diff.error).toBeUndefined();
    expect(diff.agreed).toBe(false);
    expect(diff.examples.map((e) => e.kind).sort()).toEqual(["extra", "missing", "value"]);
    expect(diff.examples.find((e) => e.kind === "missing")?.offset).toBe(c1.o);

    // A disagreement makes the SUT's verdict unknown (a harness error) and the summary says so.
    const r = unknownResult(
      {
        sut: { name: "t", description: "", confirms: false, claims: [], expectedViolations: [] },
        ns,
        instances: 1,
        startedAtMs: 0,
      },
      "x",
    );
    r.verdict = "pass";
    withCrossCheck(r, diff);
    expect(r.verdict).toBe("unknown");
    expect(r.verdictReason).toMatch(/^harness error: .*disagrees .* on 3 record/);
    expect(crossCheckLine(r)).toMatch(/HARNESS ERROR .* disagrees on 3 record/);
  });
});
