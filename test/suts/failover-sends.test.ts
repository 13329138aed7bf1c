// Issue 16 (three brokers, a partition leader killed): the two workarounds our transactional SUTs
// rely on, checked without a broker. The failures themselves only show under a real leader change
// at the right moment (nondeterministic): the gate cells `keyed-transactional[broker] (3 brokers)`
// and `saga[broker] (3 brokers)` are their guard (see docs/FAILOVER.md).
import { describe, expect, it } from "vitest";
import { partitionFor } from "../../harness/load/produce.ts";
import { byPartition, partitionOfKey } from "../../systems-under-test/contract/index.ts";
import { readCommittedFixStats } from "../../systems-under-test/contract/kafkajs-read-committed.ts";

describe("one partition per send", () => {
  it("puts a keyed message in the partition every Kafka client (and the load driver) gives its key", () => {
    for (let i = 0; i < 500; i++) {
      const key = `o${String(i).padStart(6, "0")}`;
      expect(partitionOfKey("t", key, 4)).toBe(partitionFor("t", key, 4));
      expect(partitionOfKey("t", key, 7)).toBe(partitionFor("t", key, 7));
    }
  });

  it(
    "splits a multi-topic batch into groups of one " + "topic-partition each, keeping order and explicit partitions",
    () => {
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const groups = byPartition(
        [
          { topic: "decisions", messages: keys.map((k) => ({ key: k, value: k })) },
          {
            topic: "changelog",
            messages: [
              { key: "a", value: "1", partition: 2 },
              { key: "b", value: "2", partition: 2 },
            ],
          },
        ],
        (t) => (t === "decisions" ? 4 : 8),
      );
      const seen = new Set<string>();
      for (const g of groups) {
        const parts = new Set(g.messages.map((m) => m.partition));
        expect(parts.size).toBe(1);
        const id = `${g.topic}/${[...parts][0]}`;
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
      const decisions = groups.filter((g) => g.topic === "decisions");
      expect(decisions.flatMap((g) => g.messages).length).toBe(40);
      for (const g of decisions) {
        for (const m of g.messages) expect(m.partition).toBe(partitionOfKey("decisions", String(m.key), 4));
        // order within a partition is the order given
        const idx = g.messages.map((m) => keys.indexOf(String(m.key)));
        expect([...idx].sort((a, b) => a - b)).toEqual(idx);
      }
      expect(groups.find((g) => g.topic === "changelog")!.messages.map((m) => m.value)).toEqual(["1", "2"]);
    },
  );
});

describe("read_committed fix in the transactional SUTs", () => {
  // saga once ran without the fix (cause 2 in docs/FAILOVER.md). Now every process loads the kafkajs that
  // `npm ci` patched, so what matters is that the installed kafkajs is the patched one.
  it("the kafkajs every SUT loads carries the patched aborted-transaction filter", () => {
    // Throws "kafkajs is not patched" when node_modules/kafkajs lacks the patch.
    expect(Object.keys(readCommittedFixStats()).sort()).toEqual(["batches", "dropped"]);
  });
});
