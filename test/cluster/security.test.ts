// SASL against the embedded broker's SASL_PLAINTEXT listener: right credentials work, wrong ones fail fast.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kafkajs from "kafkajs";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { describeConnection, kafkaJsConfig, type Connection } from "../../systems-under-test/contract/connection.ts";

const { Kafka, logLevel } = kafkajs;
let cluster: EmbeddedCluster;
const user = { username: "alice", password: "alice-Secret-42" };

beforeAll(async () => {
  cluster = await EmbeddedCluster.start({ brokers: 1, scramUsers: [user] });
});
afterAll(async () => {
  await cluster?.stop();
});

async function listTopics(conn: Connection): Promise<string[]> {
  const admin = new Kafka(
    kafkaJsConfig(conn, "sasl-test", { logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000 }),
  ).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

describe("SASL on an external-style listener", () => {
  for (const mechanism of ["scram-sha-256", "scram-sha-512"] as const) {
    it(`${mechanism}: the right password connects`, async () => {
      const conn: Connection = { brokers: cluster.saslBrokers(), sasl: { mechanism, ...user } };
      await expect(listTopics(conn)).resolves.toBeInstanceOf(Array);
    });
  }

  it("plain: the right password connects", async () => {
    const conn: Connection = {
      brokers: cluster.saslBrokers(),
      sasl: { mechanism: "plain", username: "oversell", password: "oversell-secret" },
    };
    await expect(listTopics(conn)).resolves.toBeInstanceOf(Array);
  });

  it("a wrong password fails fast with an authentication error", async () => {
    const conn: Connection = {
      brokers: cluster.saslBrokers(),
      sasl: { mechanism: "scram-sha-256", username: user.username, password: "wrong" },
    };
    const t0 = Date.now();
    await expect(listTopics(conn)).rejects.toThrow(/auth/i);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("never prints the password when describing the connection", () => {
    const conn: Connection = { brokers: cluster.saslBrokers(), sasl: { mechanism: "scram-sha-512", ...user } };
    const text = describeConnection(conn);
    expect(text).toContain("alice");
    expect(text).not.toContain(user.password);
  });
});
