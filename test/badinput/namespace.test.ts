// A run on a shared cluster touches only its own namespace: topics with safe names under
// oversell.<runId>., nothing else written or deleted by bench or by `npm run clean -- --run`.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import { createTopics, testConnection, testKafka, until } from "../support/kafka.ts";
import { runCli, stopLiveClis } from "./support.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-ns-"));
afterAll(stopLiveClis);

async function snapshot(topics: string[]): Promise<Record<string, string>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const out: Record<string, string> = {};
    for (const t of topics)
      out[t] = JSON.stringify((await admin.fetchTopicOffsets(t)).map((p) => [p.partition, p.low, p.high]));
    return out;
  } finally {
    await admin.disconnect();
  }
}

async function listTopics(): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

describe("namespaces on a shared cluster", () => {
  it("topic names: only safe characters, or refused", () => {
    for (const bad of ["oversell.a b.x", "oversell.a/b.x", "oversell.é.x", "", "x".repeat(181)])
      expect(() => topicsFor(bad), bad).toThrow(/may hold only/);
    expect(topicsFor("oversell.r-1_a.naive").orders).toBe("oversell.r-1_a.naive.orders");
  });

  it(
    "bench writes only oversell.<runId>.* topics; clean " + "--run deletes exactly those; foreign topics untouched",
    async () => {
      const runId = `ns-${Date.now().toString(36)}`;
      // Foreign: another team's topic, look-alikes of the namespace, and another run whose id starts with ours.
      const foreign = [
        `foreign-${runId}.orders`,
        `oversell-${runId}`,
        `oversell.${runId}`,
        `oversell.${runId}x.naive.orders`,
        `${runId}.oversell.orders`,
      ];
      await createTopics(testConnection(), foreign, 2);
      const producer = testKafka().producer();
      await producer.connect();
      await producer.send({
        topic: foreign[0]!,
        acks: -1,
        messages: [
          { key: "k", value: "v1" },
          { key: "k2", value: "v2" },
        ],
      });
      await producer.send({ topic: foreign[3]!, acks: -1, messages: [{ key: "o1", value: "{}" }] });
      await producer.disconnect();
      const before = new Set(await listTopics());
      const foreignBefore = await snapshot(foreign);

      const scenario = join(tmp, "tiny.json");
      writeFileSync(
        scenario,
        JSON.stringify({
          name: "tiny",
          products: { count: 4, initialStock: 1 },
          demand: { ordersPerProduct: 2 },
          timing: { kind: "burst", windowMs: 100 },
          invalid: { rate: 0.25 },
          kafka: { partitions: 2 },
          drainTimeoutMs: 30_000,
        }),
      );
      // keyed-transactional creates internal topics of its own (<ns>.<sut>.*) too.
      const r = await runCli(
        "bench",
        [
          "--bootstrap",
          inject("bootstrap"),
          "--sut",
          "naive,keyed-transactional",
          "--instances",
          "1",
          "--scenario",
          scenario,
          "--run-id",
          runId,
          "--out",
          join(tmp, runId),
          "--no-progress",
        ],
        { timeoutMs: 150_000 },
      );
      expect([0, 1], r.stderr).toContain(r.code);

      // Kafka's own internal topics (__consumer_offsets, __transaction_state) appear on first use;
      // the broker makes them.
      const created = (await listTopics()).filter((t) => !before.has(t) && !t.startsWith("__"));
      console.log(`bench created ${created.length} topic(s): ${created.join(" ")}`);
      expect(created.length).toBeGreaterThan(6);
      for (const t of created) {
        expect(t.startsWith(`oversell.${runId}.`), t).toBe(true);
        expect(t, t).toMatch(/^[A-Za-z0-9._-]+$/);
      }
      expect(
        created.some((t) => t.startsWith(`oversell.${runId}.keyed-transactional.keyed-transactional.`)),
        created.join(" "),
      ).toBe(true);
      expect(await snapshot(foreign)).toEqual(foreignBefore);

      const dry = await runCli("clean", ["--bootstrap", inject("bootstrap"), "--run", runId, "--dry-run"], {
        timeoutMs: 60_000,
      });
      expect(dry.code, dry.stderr).toBe(0);
      const listed = dry.stdout
        .split("\n")
        .filter((l) => l.startsWith("would delete "))
        .map((l) => l.slice("would delete ".length));
      expect(listed.sort()).toEqual([...created].sort());

      const c = await runCli("clean", ["--bootstrap", inject("bootstrap"), "--run", runId], { timeoutMs: 90_000 });
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toContain(`deleted ${created.length} topic(s) of 1 run(s)`);
      await until(
        "the run's topics to be gone",
        async () => {
          const now = await listTopics();
          return created.every((t) => !now.includes(t)) || undefined;
        },
        30_000,
      );
      const after = await listTopics();
      for (const t of foreign) expect(after, t).toContain(t);
      expect(await snapshot(foreign)).toEqual(foreignBefore);
      // Everything that was there before the run is still there.
      for (const t of before) if (!t.startsWith("__")) expect(after, t).toContain(t);
    },
    240_000,
  );
});
