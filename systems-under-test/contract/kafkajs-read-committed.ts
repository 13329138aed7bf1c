// Side-effect module: import it BEFORE anything that loads kafkajs (first import of an entry point).
//
// kafkajs 2.2.4 drops aborted transactional records itself (src/consumer/filterAbortedMessages.js),
// and gets it wrong when several producers write transactions to one partition (decisions, the
// SUTs' internal topics): it activates at most one aborted transaction per record (`if`, not
// `while`) and assumes the broker lists aborted transactions by first offset, while the broker
// lists them by abort-marker order. Records of an aborted transaction then reach a read_committed
// consumer. Kafka's own consumer sorts by first offset and activates every transaction that has
// started (Fetcher/CompletedFetch). This replaces the kafkajs function with that logic.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

interface RawMessage {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string | number; inTransaction: boolean };
}
interface AbortedTxn {
  producerId: string | number;
  firstOffset: string;
}

const ABORT_KEY = Buffer.from([0, 0, 0, 0]);
const stats = { batches: 0, dropped: 0, leakedByKafkajs: 0 };

/** How many records the fix dropped that kafkajs's own filter would have delivered (evidence). */
export function readCommittedFixStats(): Readonly<typeof stats> {
  return { ...stats };
}

function filterAborted(original: (a: { messages: RawMessage[]; abortedTransactions?: AbortedTxn[] }) => RawMessage[]) {
  const fixed = ({ messages, abortedTransactions }: { messages: RawMessage[]; abortedTransactions?: AbortedTxn[] }): RawMessage[] => {
    if (!abortedTransactions || abortedTransactions.length === 0) return messages;
    stats.batches++;
    const queue = [...abortedTransactions].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
    const aborting = new Set<string>();
    const kept = messages.filter((m) => {
      const offset = BigInt(m.offset);
      while (queue.length && BigInt(queue[0]!.firstOffset) <= offset) aborting.add(String(queue.shift()!.producerId));
      const pid = String(m.batchContext.producerId);
      if (m.isControlRecord) {
        if (m.key && Buffer.from(m.key).equals(ABORT_KEY)) aborting.delete(pid);
        return true; // kafkajs removes control records afterwards
      }
      return !(m.batchContext.inTransaction && aborting.has(pid));
    });
    stats.dropped += messages.length - kept.length;
    const theirs = original({ messages, abortedTransactions }).length;
    if (theirs > kept.length) stats.leakedByKafkajs += theirs - kept.length;
    return kept;
  };
  (fixed as unknown as { oversellFixed: boolean }).oversellFixed = true;
  return fixed;
}

const modPath = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
const batchPath = require.resolve("kafkajs/src/consumer/batch.js");
const current = require(modPath) as ((a: never) => RawMessage[]) & { oversellFixed?: boolean };
if (!current.oversellFixed) {
  if (require.cache[batchPath]) {
    throw new Error("kafkajs-read-committed.ts must be imported before kafkajs is loaded (make it the first import)");
  }
  require.cache[modPath]!.exports = filterAborted(current as never);
}
