// Messages between the kafka driver (main thread) and its producer workers: typed arrays only, so a million
// orders cost no per-order objects crossing threads.
import type { Connection } from "../../systems-under-test/contract/connection.ts";

/** One send() carries at most this many bytes: a partition's batch stays under the broker's 1 MB message limit. */
export const MAX_SEND_BYTES = 768 * 1024;

export interface WorkerInit {
  connection: Connection;
  clientId: string;
  topic: string;
  ackTimeoutMs: number;
}

/**
 * Encoded records, in schedule order; record j is key bytes [ends[2j-1], ends[2j]) then value bytes up to ends[2j+1].
 */
export interface Chunk {
  postedAtMs: number;
  /** Index of each record's order in the driver's order source. */
  idx: Uint32Array;
  part: Int32Array;
  ends: Uint32Array;
  bytes: Uint8Array;
  /** A near-size-limit record: sent by itself. */
  alone: boolean;
}

export type ToWorker = { type: "chunk"; chunk: Chunk } | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "fatal"; error: string }
  /** A send() began: how long each of its chunks waited in the worker's queue, and how many records each held. */
  | { type: "queued"; delayMs: Float64Array; count: Uint32Array }
  | { type: "ack"; idx: Uint32Array; part: Int32Array; offset: Float64Array; ackAtMs: number }
  | { type: "error"; idx: Uint32Array; status: "failed" | "unknown"; error: string; atMs: number }
  | { type: "timeout"; idx: Uint32Array; error: string; atMs: number }
  /** Stopped; busy: its event loop utilization from ready to close (0-1). */
  | { type: "closed"; busy: number };
