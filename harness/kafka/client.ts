// The one place the harness makes a kafkajs client. Every client shares the same defaults; a
// caller that must fail faster or retry longer names a preset (TIMEOUTS) instead of its own numbers.
import kafkajs from "kafkajs";
import type { Kafka, KafkaConfig } from "kafkajs";
import { readCommittedFixStats } from "../../systems-under-test/contract/kafkajs-read-committed.ts";
import { kafkaJsConfig, type Connection } from "./connection.ts";

const { Kafka: KafkaClient, logLevel } = kafkajs;

// Fails at import, not mid-run, when node_modules/kafkajs lacks the read_committed patch.
readCommittedFixStats();

/** What every harness client uses unless a preset says otherwise: silent, 5 s to connect, 30 s a request. */
export const CLIENT_DEFAULTS: Partial<KafkaConfig> = {
  logLevel: logLevel.NOTHING,
  connectionTimeout: 5000,
  requestTimeout: 30_000,
};

/** Timeouts for a purpose. */
export const TIMEOUTS = {
  /** One quick try; the caller polls in a loop (cluster readiness). */
  poll: { connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } },
  /** Bounded reachability check before a run, with a hint on failure. */
  probe: {
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    requestTimeout: 8000,
    retry: { retries: 1, initialRetryTime: 300, maxRetryTime: 1000 },
  },
  /** Admin chores while faults are active (nemesis): a few short retries. */
  chore: { connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 3 } },
  /** Reading a run's topics back (checker): rides out a broker restart. */
  reader: {
    connectionTimeout: 3000,
    requestTimeout: 15_000,
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 8 },
  },
} satisfies Record<string, Partial<KafkaConfig>>;

export function kafkaClient(conn: Connection, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new KafkaClient(kafkaJsConfig(conn, clientId, { ...CLIENT_DEFAULTS, ...extra }));
}
