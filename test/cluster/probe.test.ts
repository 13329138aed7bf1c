// An unreachable or misconfigured cluster fails fast with a hint that names the cause.
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { freePort } from "../../harness/cluster/ports.ts";
import { probeCluster } from "../../harness/cluster/probe.ts";
import { testConnection } from "../support/kafka.ts";

let sasl: EmbeddedCluster;
let silent: Server;
let silentPort: number;
beforeAll(async () => {
  sasl = await EmbeddedCluster.start({ brokers: 1, scramUsers: [{ username: "bob", password: "bob-pw" }] });
  // Accepts connections and never answers: "a wrong port" that is open.
  silent = createServer((s) => s.on("data", () => {}));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  silent?.close();
  await sasl?.stop();
});

async function failure(p: Promise<unknown>): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (e) {
    return { message: (e as Error).message, ms: Date.now() - t0 };
  }
  throw new Error("expected the probe to fail");
}

describe("probeCluster", () => {
  it("answers for the real broker", async () => {
    const r = await probeCluster(testConnection());
    expect(r.brokers).toBe(1);
  });

  it("nothing listening: names the port and says so", async () => {
    const port = await freePort();
    const f = await failure(probeCluster({ brokers: [`127.0.0.1:${port}`] }));
    expect(f.message).toMatch(new RegExp(`nothing is listening at 127\\.0\\.0\\.1:${port}`));
    expect(f.ms).toBeLessThan(30_000);
  });

  it("an open port that is not Kafka: fails within 30 s", async () => {
    const f = await failure(probeCluster({ brokers: [`127.0.0.1:${silentPort}`] }, 10_000));
    expect(f.message).toMatch(/did not answer as a Kafka broker|not be a Kafka port/);
    expect(f.ms).toBeLessThan(30_000);
  });

  it("TLS to a plaintext port: says the port does not speak TLS", async () => {
    const f = await failure(
      probeCluster({ brokers: testConnection().brokers, ssl: { enabled: true, rejectUnauthorized: false } }, 10_000),
    );
    expect(f.message).toMatch(/does not speak TLS/);
    expect(f.ms).toBeLessThan(30_000);
  });

  it("a wrong SASL password: says the credentials were refused, without the password", async () => {
    const f = await failure(
      probeCluster({
        brokers: sasl.saslBrokers(),
        sasl: { mechanism: "scram-sha-256", username: "bob", password: "not-bobs-pw" },
      }),
    );
    expect(f.message).toMatch(/refused the credentials/);
    expect(f.message).not.toContain("not-bobs-pw");
    expect(f.ms).toBeLessThan(30_000);
  });

  it("SASL listener without credentials: hints at SASL", async () => {
    const f = await failure(probeCluster({ brokers: sasl.saslBrokers() }, 10_000));
    expect(f.message).toMatch(/SASL/);
  });
});
