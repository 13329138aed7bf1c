// Starting and stopping brokers never leaves a JVM behind, also when the starter is interrupted or killed.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { isAlive } from "../../harness/process/proc.ts";
import { until } from "../support/kafka.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** Runs the fixture that starts a cluster and prints its JVM pids, then signals it. */
async function startAndSignal(signal: NodeJS.Signals, when: "starting" | "ready"): Promise<number[]> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/fixtures/start-cluster.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const pids = await until(
    `the fixture to report JVM pids (${when})`,
    () => {
      const m = new RegExp(`^${when} (.+)$`, "m").exec(out);
      return m ? m[1]!.split(",").map(Number) : undefined;
    },
    90_000,
    50,
  );
  expect(pids.length).toBeGreaterThan(0);
  child.kill(signal);
  await new Promise((r) => child.once("exit", r));
  return pids;
}

describe("embedded cluster lifecycle", () => {
  it("stop() ends every JVM", async () => {
    const c = await EmbeddedCluster.start({ brokers: 1 });
    const pids = c.pids();
    expect(pids).toHaveLength(1);
    expect(readFileSync(c.logFile, "utf8")).toMatch(/Kafka Server started/);
    await c.stop();
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it("Ctrl-C during start-up leaves no JVM", async () => {
    const pids = await startAndSignal("SIGINT", "starting");
    await until("the JVM to be reaped", () => pids.every((p) => !isAlive(p)), 10_000);
  });

  it("kill -9 of the harness leaves no JVM (the watchdog reaps it)", async () => {
    const pids = await startAndSignal("SIGKILL", "ready");
    await until("the watchdog to reap the JVM", () => pids.every((p) => !isAlive(p)), 15_000);
  });
});
