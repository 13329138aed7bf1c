// `npm run kafka -- start|status|stop`: start prints the bootstrap address and leaves the broker
// running for other tools until stop, which ends it.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive } from "../../harness/process/proc.ts";
import { runCli } from "../support/cli.ts";
import { testKafka } from "../support/kafka.ts";

const stateDir = mkdtempSync(join(tmpdir(), "oversell-kafka-cli-"));
const env = { OVERSELL_KAFKA_STATE_DIR: stateDir };
afterAll(async () => {
  await runCli("kafka", ["stop"], { env, timeoutMs: 60_000 });
});

describe("npm run kafka", () => {
  it("start prints 127.0.0.1:<port>, the broker answers there and outlives the command; stop ends it", async () => {
    const start = await runCli("kafka", ["start"], { env, timeoutMs: 120_000 });
    expect(start.code, start.stderr).toBe(0);
    const bootstrap = start.stdout.trim();
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);

    const pids = (
      JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as { nodes: { pid: number }[] }
    ).nodes.map((n) => n.pid);
    expect(pids.every(isAlive)).toBe(true);
    const admin = testKafka("kafka-cli", { brokers: [bootstrap] }).admin();
    await admin.connect();
    const d = await admin.describeCluster();
    await admin.disconnect();
    expect(d.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([bootstrap]);

    const status = await runCli("kafka", ["status"], { env, timeoutMs: 60_000 });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running: ${bootstrap}`);

    const again = await runCli("kafka", ["start"], { env, timeoutMs: 60_000 });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already running");

    const stop = await runCli("kafka", ["stop"], { env, timeoutMs: 60_000 });
    expect(stop.code).toBe(0);
    expect(pids.some(isAlive)).toBe(false);
    const after = await runCli("kafka", ["status"], { env, timeoutMs: 60_000 });
    expect(after.code).toBe(3);
    expect(after.stdout).toContain("not running");
  });
});
