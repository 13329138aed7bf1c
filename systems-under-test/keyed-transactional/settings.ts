// Settings from OVERSELL_SETTING_<NAME>, declared (default, range, meaning) in sut.json.
import { settingsOrExit, type InstanceContext } from "../contract/index.ts";

export interface Settings {
  /**
   * false = OVERSELL_SETTING_TRANSACTIONS=off: plain produce, offsets committed after (at-least-once, broken on
   * purpose).
   */
  transactions: boolean;
  /** Most input records handled in one transaction. */
  batchSize: number;
  /** How long a fetch waits for minBytes before returning (the consumer-side linger). */
  lingerMs: number;
  minBytes: number;
  /** Input partitions processed at once per stage (each has its own producer). */
  concurrency: number;
  transactionTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatMs: number;
  /** An assigned partition with input waiting and no batch for this long: the consumer is replaced. */
  stallMs: number;
  /** Partitions of the internal topics; default: those of <ns>.orders. */
  partitions?: number;
  /** The Kafka client of the two stages: kafkajs (EOS v1) or confluent (librdkafka, EOS v2). */
  client: "kafkajs" | "confluent";
  /** Units a product may be sold ahead of its stock (0: never; above 0 broken on purpose). */
  backorder: number;
}

// The context is kept in the signature for callers; values come from the environment via sut.json.
export function readSettings(_ctx: InstanceContext): Settings {
  const s = settingsOrExit(new URL("./sut.json", import.meta.url));
  return {
    transactions: s.choice("transactions") === "on",
    batchSize: s.number("batch_size"),
    lingerMs: s.number("linger_ms"),
    minBytes: s.number("min_bytes"),
    concurrency: s.number("concurrency"),
    transactionTimeoutMs: s.number("transaction_timeout_ms"),
    sessionTimeoutMs: s.number("session_timeout_ms"),
    heartbeatMs: s.number("heartbeat_ms"),
    stallMs: s.number("stall_ms"),
    partitions: s.optionalNumber("partitions"),
    client: s.choice("client") === "confluent" ? "confluent" : "kafkajs",
    backorder: s.number("backorder"),
  };
}
