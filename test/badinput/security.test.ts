// SASL for external clusters, against our own broker with a SASL_PLAINTEXT listener (SCRAM users and
// the PLAIN user oversell/oversell-secret): a full small bench over SASL (every SUT, the Java one
// too, gets the credentials through OVERSELL_SASL_*), wrong credentials fail fast, and the password
// appears nowhere: not in the run folder (result, report, history, junit, instance logs), not in
// the broker's log, not on the terminal.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { resultSchema } from "../../harness/report/result-schema.ts";
import { listSuts, loadManifest } from "../../harness/sut/manifest.ts";
import { runCli, runProcesses, stopLiveClis, type CliRun } from "./support.ts";

const tmp = mkdtempSync(join(tmpdir(), "oversell-sasl-"));
const user = {
  username: `carol-${randomBytes(2).toString("hex")}`,
  password: `pw-${randomBytes(9).toString("base64url")}`,
};
const PLAIN_PASSWORD = "oversell-secret";
let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await EmbeddedCluster.start({
    brokers: 1,
    scramUsers: [user],
    logFile: join(tmp, "sasl-broker-kafka.log"),
  });
});
afterAll(async () => {
  stopLiveClis();
  await cluster?.stop();
});

const scenario = join(tmp, "sasl-small.json");
// Small, with a few of every mixed-in kind so the SUTs' error paths also run over SASL.
writeFileSync(
  scenario,
  JSON.stringify({
    name: "sasl-small",
    products: { count: 8, initialStock: 1 },
    demand: { ordersPerProduct: 3 },
    timing: { kind: "burst", windowMs: 200 },
    invalid: { rate: 0.4 },
    kafka: { partitions: 2 },
    drainTimeoutMs: 40_000,
  }),
);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every file of the run folder and the broker log, and the terminal output: none holds the password. */
function expectNoSecret(secret: string, runDir: string, ...outputs: CliRun[]): string[] {
  const files = [...filesUnder(runDir), cluster.logFile];
  for (const f of files) expect(readFileSync(f, "utf8").includes(secret), `${secret} in ${f}`).toBe(false);
  for (const o of outputs) expect(`${o.stdout}\n${o.stderr}`.includes(secret), "password on the terminal").toBe(false);
  return files;
}

describe("SASL to an external cluster", () => {
  it(
    "scram-sha-512: a full small bench with every SUT " + "works; check over SASL agrees; no password anywhere",
    async () => {
      const suts = listSuts();
      const out = join(tmp, "run-scram");
      const runId = `sasl-${Date.now().toString(36)}`;
      const env = { OVERSELL_SASL_PASSWORD: user.password };
      const sasl = [
        "--bootstrap",
        cluster.saslBrokers().join(","),
        "--sasl-mechanism",
        "scram-sha-512",
        "--sasl-username",
        user.username,
      ];
      const r = await runCli(
        "bench",
        [
          ...sasl,
          "--sut",
          suts.join(","),
          "--instances",
          "1",
          "--scenario",
          scenario,
          "--run-id",
          runId,
          "--out",
          out,
          "--no-progress",
        ],
        { timeoutMs: 280_000, env },
      );
      console.log(`bench over SCRAM-SHA-512: exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s\n${r.stdout}`);
      expect(r.stderr).toContain(`Kafka: ${cluster.saslBrokers().join(",")} sasl=scram-sha-512 user=${user.username}`);
      const result = resultSchema.parse(JSON.parse(readFileSync(join(out, "result.json"), "utf8")));
      expect(result.suts.map((s) => s.name)).toEqual(suts);
      for (const s of result.suts) {
        const why = `${s.name}: ${s.verdictReason}`;
        // Every instance connected with the credentials it got through the environment and decided every order.
        expect(s.verdict, why).not.toBe("unknown");
        expect(s.crashes ?? [], why).toEqual([]);
        expect(s.orders.acked, why).toBeGreaterThan(0);
        expect(s.orders.decided, why).toBe(s.orders.acked);
        if (loadManifest(s.name).expectedViolations.length === 0) expect(s.verdict, why).toBe("pass");
      }
      expect(runProcesses(runId)).toEqual([]);

      const c = await runCli("check", [out, "--from-topics", ...sasl, "--no-progress"], { timeoutMs: 120_000, env });
      expect(c.code, c.stderr).toBe(r.code);
      const again = resultSchema.parse(JSON.parse(readFileSync(join(out, "check.json"), "utf8")));
      expect(again.suts.map((s) => [s.name, s.verdict, s.orders.decided])).toEqual(
        result.suts.map((s) => [s.name, s.verdict, s.orders.decided]),
      );

      const files = expectNoSecret(user.password, out, r, c);
      expect(files.some((f) => f.endsWith(".log") && f.includes("kafka-streams-instance-0"))).toBe(true);
      expect(files.map((f) => f.slice(out.length + 1))).toEqual(
        expect.arrayContaining(["result.json", "history.ndjson", "report.html", "junit.xml", "check.json"]),
      );
    },
    300_000,
  );

  it("plain: keyed-transactional (transactions) over PLAIN; no password anywhere", async () => {
    const out = join(tmp, "run-plain");
    const r = await runCli(
      "bench",
      [
        "--bootstrap",
        cluster.saslBrokers().join(","),
        "--sasl-mechanism",
        "PLAIN",
        "--sasl-username",
        "oversell",
        "--sut",
        "keyed-transactional",
        "--instances",
        "1",
        "--scenario",
        scenario,
        "--out",
        out,
        "--no-progress",
      ],
      { timeoutMs: 150_000, env: { OVERSELL_SASL_PASSWORD: PLAIN_PASSWORD } },
    );
    expect(r.code, r.stderr).toBe(0);
    const result = resultSchema.parse(JSON.parse(readFileSync(join(out, "result.json"), "utf8")));
    expect(result.suts[0]).toMatchObject({ name: "keyed-transactional", verdict: "pass" });
    expect(result.suts[0]!.orders.decided).toBe(result.suts[0]!.orders.acked);
    expectNoSecret(PLAIN_PASSWORD, out, r);
  }, 180_000);

  it("wrong credentials fail within 30 s with a hint, exit 2, password not printed", async () => {
    const wrong = `wrong-${randomBytes(6).toString("hex")}`;
    const cases: [string, string[]][] = [
      ["scram-sha-256, wrong password", ["--sasl-mechanism", "scram-sha-256", "--sasl-username", user.username]],
      ["scram-sha-512, unknown user", ["--sasl-mechanism", "scram-sha-512", "--sasl-username", "nobody"]],
      ["plain, wrong password", ["--sasl-mechanism", "plain", "--sasl-username", "oversell"]],
    ];
    for (const [what, flags] of cases) {
      const out = join(tmp, `wrong-${what.replace(/\W+/g, "-")}`);
      const r = await runCli(
        "bench",
        ["--bootstrap", cluster.saslBrokers().join(","), ...flags, "--sut", "naive", "--out", out, "--no-progress"],
        { timeoutMs: 60_000, env: { OVERSELL_SASL_PASSWORD: wrong } },
      );
      console.log(`${what}: exit ${r.code} after ${r.ms} ms: ${r.stderr.trim().split("\n").slice(-2).join(" / ")}`);
      expect(r.code, what).toBe(2);
      expect(r.stderr, what).toMatch(
        new RegExp(
          String.raw`the broker refused the credentials[^]*hint: ` +
            String.raw`authentication with .* failed: check the username and OVERSELL_SASL_PASSWORD`,
        ),
      );
      expect(r.ms, what).toBeLessThan(30_000);
      expectNoSecret(wrong, out, r);
    }
    // No credentials at all on a SASL listener: the hint points at SASL.
    const none = await runCli(
      "bench",
      [
        "--bootstrap",
        cluster.saslBrokers().join(","),
        "--sut",
        "naive",
        "--out",
        join(tmp, "no-sasl"),
        "--no-progress",
      ],
      { timeoutMs: 60_000 },
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/hint: .*SASL \(--sasl-mechanism\)/);
  }, 200_000);
});
