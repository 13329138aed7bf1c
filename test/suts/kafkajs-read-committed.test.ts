// The kafkajs read_committed fix (patches/kafkajs+2.2.4.patch, applied by `npm ci`), on kafkajs's own Batch.
// Nothing is imported first: the installed kafkajs itself must be fixed.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { readCommittedFixStats } from "../../systems-under-test/contract/kafkajs-read-committed.ts";

const require = createRequire(import.meta.url);
type BatchCtor = new (topic: string, fetchedOffset: string, data: object) => { messages: { offset: string }[] };
const Batch = require("kafkajs/src/consumer/batch.js") as BatchCtor;

const rec = (offset: number, producerId: string, control?: "abort" | "commit") => ({
  offset: String(offset),
  key: control ? Buffer.from([0, 0, 0, control === "abort" ? 0 : 1]) : Buffer.from(`k${offset}`),
  value: control ? Buffer.alloc(0) : Buffer.from("v"),
  isControlRecord: Boolean(control),
  batchContext: { producerId, inTransaction: true },
});

describe("read_committed filter (kafkajs 2.2.4 workaround)", () => {
  it("drops every aborted record when two producers' aborted transactions interleave", () => {
    // A starts at 10, B at 11; B's abort marker comes first, so the broker lists B before A.
    const messages = [
      rec(10, "A"),
      rec(11, "B"),
      rec(12, "C"),
      rec(13, "B", "abort"),
      rec(14, "A", "abort"),
      rec(15, "C", "commit"),
    ];
    const b = new Batch("t", "10", {
      partition: 0,
      highWatermark: "16",
      messages,
      abortedTransactions: [
        { producerId: "B", firstOffset: "11" },
        { producerId: "A", firstOffset: "10" },
      ],
    });
    expect(b.messages.map((m) => m.offset)).toEqual(["12"]);
  });

  it("drops aborted records when the fetch starts after two aborted transactions began", () => {
    const messages = [rec(12, "B"), rec(13, "A"), rec(14, "A", "abort"), rec(15, "B", "abort"), rec(16, "C")];
    const b = new Batch("t", "12", {
      partition: 0,
      highWatermark: "17",
      messages,
      abortedTransactions: [
        { producerId: "A", firstOffset: "10" },
        { producerId: "B", firstOffset: "11" },
      ],
    });
    expect(b.messages.map((m) => m.offset)).toEqual(["16"]);
  });

  it("counts what it dropped (the counters SUTs and tests log as evidence)", () => {
    const before = readCommittedFixStats();
    const messages = [rec(20, "A"), rec(21, "A", "abort"), rec(22, "B")];
    new Batch("t", "20", {
      partition: 0,
      highWatermark: "23",
      messages,
      abortedTransactions: [{ producerId: "A", firstOffset: "20" }],
    });
    const after = readCommittedFixStats();
    expect(after.batches - before.batches).toBe(1);
    expect(after.dropped - before.dropped).toBe(1);
  });
});
