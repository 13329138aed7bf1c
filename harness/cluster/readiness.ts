// "Ready" means the cluster metadata lists every expected broker.
import { kafkaClient, TIMEOUTS } from "../kafka/client.ts";
import type { Connection } from "../kafka/connection.ts";

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
    const kafka = kafkaClient(conn, "oversell-readiness", TIMEOUTS.poll);
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
