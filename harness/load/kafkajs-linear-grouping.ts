// Side-effect module: import it BEFORE anything that loads kafkajs (first import of the producer worker).
//
// kafkajs 2.2.4 groups a send()'s messages by partition (src/producer/groupMessagesPerPartition.js) by copying
// the partition's array for every message: quadratic in the messages per partition. Sends of thousands of
// records (what makes a producer fast) then spend most of their CPU copying arrays. Same result, one pass.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

interface Grouping {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

function groupLinear({ topic, partitionMetadata, messages, partitioner }: Grouping): Record<number, unknown[]> {
  const out: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return out;
  for (const message of messages) {
    const p = partitioner({ topic, partitionMetadata, message });
    (out[p] ??= []).push(message);
  }
  return out;
}
(groupLinear as unknown as { oversellLinear: boolean }).oversellLinear = true;

const modPath = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
const senderPath = require.resolve("kafkajs/src/producer/sendMessages.js");
const current = require(modPath) as { oversellLinear?: boolean };
if (!current.oversellLinear) {
  if (require.cache[senderPath]) {
    throw new Error("kafkajs-linear-grouping.ts must be imported before kafkajs is loaded (make it the first import)");
  }
  require.cache[modPath]!.exports = groupLinear;
}
