// kafkajs 2.2.4 drops aborted transactional records itself and gets it wrong when several producers
// write transactions to one partition. The fix is a patch applied to node_modules at `npm ci`
// (patches/kafkajs+2.2.4.patch, run by patch-package; see docs/ARCHITECTURE.md), so every process
// loads the fixed kafkajs whatever it imports first. This module only reads the patch's counters.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export interface ReadCommittedFixStats {
  /** Fetched batches that carried aborted transactions. */
  batches: number;
  /** Records of aborted transactions the fixed filter dropped. */
  dropped: number;
}

/** The counters of this process's fixed filter; throws when node_modules/kafkajs is not patched. */
export function readCommittedFixStats(): Readonly<ReadCommittedFixStats> {
  const filter = require("kafkajs/src/consumer/filterAbortedMessages.js") as { oversellStats?: ReadCommittedFixStats };
  if (!filter.oversellStats) {
    throw new Error("kafkajs is not patched (read_committed fix): run `npm ci`, whose postinstall applies patches/");
  }
  return { ...filter.oversellStats };
}
