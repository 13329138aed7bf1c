// npm run clean: removes old run namespaces and nothing else.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { newRunId } from "../../harness/run/bench.ts";
import { createTopics, testConnection, testKafka, uniqueNs } from "../support/kafka.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");

function clean(args: string[]) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", "harness/cli/clean.ts", "--bootstrap", inject("bootstrap"), ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 90_000 },
  );
}

describe("clean", () => {
  it("--older-than deletes only old oversell.<runId>.* topics; --run deletes one run", async () => {
    const oldRun = `20200101T000000-${Math.random().toString(16).slice(2, 6)}`;
    const newRun = newRunId();
    const other = uniqueNs("clean-keep");
    const oldTopics = [`oversell.${oldRun}.naive.orders`, `oversell.${oldRun}.naive.naive.internal`];
    const newTopics = [`oversell.${newRun}.saga.orders`];
    await createTopics(testConnection(), [...oldTopics, ...newTopics, `${other}.orders`, `keep-${newRun}`]);

    const dry = clean(["--older-than", "1d", "--dry-run"]);
    expect(dry.status, dry.stderr).toBe(0);
    for (const t of oldTopics) expect(dry.stdout).toContain(`would delete ${t}`);
    expect(dry.stdout).not.toContain(newRun);

    const r = clean(["--older-than", "1d"]);
    expect(r.status, r.stderr).toBe(0);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      let left = await admin.listTopics();
      for (const t of oldTopics) expect(left).not.toContain(t);
      for (const t of [...newTopics, `${other}.orders`, `keep-${newRun}`]) expect(left).toContain(t);

      const one = clean(["--run", newRun]);
      expect(one.status, one.stderr).toBe(0);
      left = await admin.listTopics();
      expect(left).not.toContain(newTopics[0]);
      expect(left).toContain(`${other}.orders`);
      expect(left).toContain(`keep-${newRun}`);
    } finally {
      await admin.disconnect();
    }

    const bad = clean(["--run", "x.*"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*\nusage: /);
  }, 180_000);
});
