// The run's Kafka chores: is the cluster there, the contract topics of a namespace, stock events,
// and removing old run namespaces. Only topic names of the run's own namespace are ever touched.
import type { Admin, Producer } from "kafkajs";
import { kafkaClient } from "../kafka/client.ts";
import type { Connection } from "../kafka/connection.ts";
import { encode } from "../../systems-under-test/contract/events.ts";
import { NAMESPACE_PATTERN, topicsFor } from "../../systems-under-test/contract/topics.ts";
import { sendPerPartition } from "../../systems-under-test/contract/one-partition-sends.ts";
import { createTopicsServed } from "../../systems-under-test/contract/create-topics.ts";

// The harness's one client factory (harness/kafka/client.ts), re-exported for the run's stages.
export { kafkaClient } from "../kafka/client.ts";

// Reachability with a hint naming the cause lives with the cluster code; re-exported for the run.
export { probeCluster, UnreachableClusterError } from "../cluster/probe.ts";

export async function withAdmin<T>(conn: Connection, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(conn, "oversell-admin").admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** <ns>.stock, <ns>.orders, <ns>.decisions with the same partition count. */
export async function createContractTopics(
  conn: Connection,
  ns: string,
  partitions: number,
  replicationFactor: number,
): Promise<void> {
  const t = topicsFor(ns);
  await withAdmin(conn, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const wanted = [t.stock, t.orders, t.decisions].filter((x) => !existing.has(x));
    if (wanted.length === 0) return;
    await createTopicsServed(
      admin,
      wanted.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    );
  });
}

export interface StockItem {
  productId: string;
  quantity: number;
}

/** StockSet / StockAdded events keyed by productId, acks from all in-sync replicas. */
/** One send per partition (see contract/one-partition-sends.ts: a multi-broker send can lose records). */
export async function sendStock(
  producer: Producer,
  ns: string,
  partitions: number,
  type: "StockSet" | "StockAdded",
  items: StockItem[],
): Promise<void> {
  const topic = topicsFor(ns).stock;
  for (let i = 0; i < items.length; i += 1000) {
    const chunk = items.slice(i, i + 1000);
    const messages = chunk.map((it) => ({
      key: it.productId,
      value: encode({ type, productId: it.productId, quantity: it.quantity }),
    }));
    await sendPerPartition(
      (r) => producer.send(r),
      [{ topic, messages }],
      () => partitions,
    );
  }
}

/**
 * No '.': it separates the runId from the SUT in oversell.<runId>.<sut>, so run "a" must never own run "a.b"'s topics.
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
const STAMPED_RUN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-[a-z0-9]+$/;

/** When a run id of the default form (20261125T121500-ab12, UTC) was made; undefined for others. */
export function runIdTime(runId: string): number | undefined {
  const m = STAMPED_RUN.exec(runId);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Topics of run namespaces oversell.<runId>.* (runId never contains '.'), grouped by run. */
export function runTopics(topics: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of topics) {
    const m = /^oversell\.([^.]+)\.[A-Za-z0-9._-]+$/.exec(t);
    if (!m || !NAMESPACE_PATTERN.test(t)) continue;
    const list = out.get(m[1]!) ?? [];
    list.push(t);
    out.set(m[1]!, list);
  }
  return out;
}

/** Deletes the topics of the runs (oversell.<runId>.*) whose id `which` accepts; returns how many. */
export async function deleteRunTopics(conn: Connection, which: (runId: string) => boolean): Promise<number> {
  return withAdmin(conn, async (admin) => {
    const topics = [...runTopics(await admin.listTopics())].filter(([id]) => which(id)).flatMap(([, t]) => t);
    for (let i = 0; i < topics.length; i += 100)
      await admin.deleteTopics({ topics: topics.slice(i, i + 100), timeout: 30_000 });
    return topics.length;
  });
}
