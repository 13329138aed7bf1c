// "Ready" means the cluster metadata lists every expected broker.
import kafkajs from "kafkajs";
import { kafkaJsConfig, type Connection } from "../../systems-under-test/contract/connection.ts";

const { Kafka, logLevel } = kafkajs;

export async function waitForBrokers(
  conn: Connection,
  nodeIds: number[],
  timeoutMs: number,
  check: () => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    check();
    const kafka = new Kafka(kafkaJsConfig(conn, "oversell-readiness", {
      logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 },
    }));
    const admin = kafka.admin();
    try {
      await admin.connect();
      const d = await admin.describeCluster();
      const seen = new Set(d.brokers.map((b) => b.nodeId));
      if (nodeIds.every((id) => seen.has(id))) return;
      last = `brokers seen: ${[...seen].join(",") || "none"}, waiting for ${nodeIds.join(",")}`;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Kafka did not become ready within ${Math.round(timeoutMs / 1000)} s (${last})`);
}
