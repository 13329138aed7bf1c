// Creating topics so that the next write finds them, on one broker or three.
// kafkajs's `createTopics({ waitForLeaders: true })` asks the broker that took the request for the
// new topics' metadata and retries only LEADER_NOT_AVAILABLE. On KRaft a broker learns of a topic
// from the metadata log a moment after the controller created it, and a broker restarted after a
// kill -9 lags longer: its answer UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
// topic-partition") failed every run that created topics after a broker fault on three nodes.
import type { Admin, ITopicConfig } from "kafkajs";

function alreadyExists(e: unknown): boolean {
  const errors = (e as { errors?: { type?: string }[] }).errors;
  if (errors?.length) return errors.every((x) => x.type === "TOPIC_ALREADY_EXISTS");
  return (e as { type?: string }).type === "TOPIC_ALREADY_EXISTS" || /already exists/i.test(String(e));
}

/**
 * Creates the topics (another instance creating the same ones is fine), then waits until every
 * partition has its partition count and a leader that answers ListOffsets, i.e. takes writes.
 */
export async function createTopicsServed(admin: Admin, topics: ITopicConfig[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    await admin.createTopics({ waitForLeaders: false, topics });
  } catch (e) {
    if (!alreadyExists(e)) throw e;
  }
  for (const t of topics) {
    for (;;) {
      try {
        const [m] = (await admin.fetchTopicMetadata({ topics: [t.topic] })).topics;
        const n = m?.partitions.length ?? 0;
        if (t.numPartitions !== undefined && n > 0 && n !== t.numPartitions)
          throw new Error(`topic ${t.topic} exists with ${n} partitions, not ${t.numPartitions}`);
        if (n > 0 && m!.partitions.every((p) => p.leader >= 0)) {
          await admin.fetchTopicOffsets(t.topic); // answered by each partition's leader
          break;
        }
      } catch (e) {
        if (/exists with/.test((e as Error).message)) throw e;
        if (Date.now() > deadline) throw new Error(`topic ${t.topic} not served yet: ${(e as Error).message}`);
      }
      if (Date.now() > deadline) throw new Error(`topic ${t.topic}: no leader for every partition yet`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
