// TLS on the embedded broker's own listeners: a round trip over SSL, mutual TLS on the MTLS listener,
// and the two ways a TLS setup goes wrong (wrong CA, missing client certificate) failing with a hint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { probeCluster, UnreachableClusterError } from "../../harness/cluster/probe.ts";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { createTopics, testKafka, uniqueNs, until } from "../support/kafka.ts";

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await EmbeddedCluster.start({ brokers: 1, tls: {} });
});
afterAll(async () => {
  await cluster?.stop();
});

async function roundTrip(conn: Connection): Promise<string[]> {
  const topic = `${uniqueNs("tls")}.t`;
  await createTopics(conn, [topic], 1);
  const kafka = testKafka("tls-test", conn);
  const producer = kafka.producer({ idempotent: true });
  const consumer = kafka.consumer({ groupId: `${topic}.reader` });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: ["a", "b", "c"].map((value) => ({ key: "k", value })) });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
      },
    });
    await until("3 records over TLS", () => seen.length >= 3, 30_000);
    return seen;
  } finally {
    await producer.disconnect().catch(() => {});
    await consumer.disconnect().catch(() => {});
  }
}

async function probeError(conn: Connection): Promise<UnreachableClusterError> {
  // The probe's own deadline is 15 s: a hint about certificates (not "timeout") shows it failed on the cause.
  const e = await probeCluster(conn, 15_000).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UnreachableClusterError);
  return e as UnreachableClusterError;
}

describe("TLS listeners of the embedded broker", () => {
  it("round-trips records over the SSL listener, verifying the broker against the generated CA", async () => {
    const conn = cluster.tlsConnection();
    expect(conn.ssl?.caFile).toBe(cluster.tls!.caFile);
    expect(await roundTrip(conn)).toEqual(["a", "b", "c"]);
  });

  it("mutual TLS: the MTLS listener accepts the client certificate", async () => {
    const conn = cluster.tlsConnection({ mutual: true });
    expect(conn.ssl?.certFile).toBeTruthy();
    expect(await roundTrip(conn)).toEqual(["a", "b", "c"]);
  });

  it("mutual TLS: without a client certificate the probe says one is required", async () => {
    const { ssl, brokers } = cluster.tlsConnection({ mutual: true });
    const e = await probeError({ brokers, ssl: { ...ssl!, certFile: undefined, keyFile: undefined } });
    expect(e.message).toMatch(/rejected the client's TLS certificate/);
    expect(e.hint).toMatch(/--ssl-cert/);
  });

  it("a wrong CA fails with a certificate verification hint naming --ssl-ca", async () => {
    const { ssl, brokers } = cluster.tlsConnection();
    const e = await probeError({ brokers, ssl: { ...ssl!, caFile: cluster.tls!.otherCaFile } });
    expect(e.message).toMatch(/could not be verified/);
    expect(e.hint).toMatch(/--ssl-ca/);
  });
});
