// @confluentinc/kafka-javascript (librdkafka) for the SUTs that run on it (`client=confluent`): how an
// instance loads it and turns the harness's connection into its config, and the subset of its
// KafkaJS-compatible API they use. Its own types ship with the package, which is installed outside
// node_modules on machines that build it (harness/clients/confluent.ts), so they cannot be imported here.
import { createRequire } from "node:module";
import type { KafkaMessage } from "kafkajs";
import type { Connection } from "./connection.ts";

export interface CkBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}
export interface CkBatchPayload {
  batch: CkBatch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}
export interface CkConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: {
    eachBatch(p: CkBatchPayload): Promise<void>;
    eachBatchAutoResolve: boolean;
    partitionsConsumedConcurrently: number;
  }): Promise<void>;
}
export interface CkProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  transaction(): Promise<CkProducer>;
  send(r: {
    topic: string;
    messages: { key: string; value: Buffer | string | null; partition?: number }[];
  }): Promise<unknown>;
  sendOffsets(o: {
    consumer: CkConsumer;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}
export interface CkKafka {
  consumer(c: object): CkConsumer;
  producer(c: object): CkProducer;
}
export interface CkModule {
  librdkafkaVersion: string;
  KafkaJS: { Kafka: new (c: object) => CkKafka; logLevel: Record<string, number> };
}

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: the rebalance callback's "you now own these". */
export const CK_ASSIGN_PARTITIONS = -175;

/** The client: from OVERSELL_CONFLUENT_MODULE (the harness's cached install), else node_modules. */
export function loadConfluent(): CkModule {
  const where = process.env.OVERSELL_CONFLUENT_MODULE || "@confluentinc/kafka-javascript";
  return createRequire(import.meta.url)(where) as CkModule;
}

/** The connection as the client's config: brokers, TLS and SASL (librdkafka reads PEM files itself). */
export function confluentConfig(mod: CkModule, c: Connection, clientId: string): object {
  const ssl = c.ssl?.enabled === true;
  return {
    kafkaJS: {
      clientId,
      brokers: c.brokers,
      ssl,
      ...(c.sasl ? { sasl: { ...c.sasl } } : {}),
      logLevel: mod.KafkaJS.logLevel.WARN,
    },
    ...(ssl && c.ssl?.caFile ? { "ssl.ca.location": c.ssl.caFile } : {}),
    ...(ssl && c.ssl?.certFile ? { "ssl.certificate.location": c.ssl.certFile } : {}),
    ...(ssl && c.ssl?.keyFile ? { "ssl.key.location": c.ssl.keyFile } : {}),
    ...(ssl && c.ssl?.rejectUnauthorized === false ? { "enable.ssl.certificate.verification": false } : {}),
  };
}

/**
 * One transactional producer (EOS v2: one per instance and consumer group), its transactions one at a time, as
 * librdkafka runs them. After a failed transaction it is aborted; a producer that cannot abort (fenced, fatal)
 * is replaced by a new one, whose InitProducerId fences nothing but this instance's previous life.
 */
export class CkTransactions {
  private producer?: CkProducer;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly newProducer: () => CkProducer,
    private readonly log: (msg: string) => void,
  ) {}

  async start(): Promise<void> {
    this.producer = await this.connected();
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
  }

  /** begin; `fill` (sends, sendOffsets); commit. On a failure: abort (or a new producer) and rethrow. */
  run(fill: (tx: CkProducer) => Promise<void>): Promise<void> {
    const run = async () => {
      if (!this.producer) throw new Error("transactional producer not started");
      const tx = await this.producer.transaction();
      try {
        await fill(tx);
        await tx.commit();
      } catch (e) {
        await this.recover(tx);
        throw e;
      }
    };
    const p = this.lock.then(run, run);
    this.lock = p.catch(() => {});
    return p;
  }

  private async recover(tx: CkProducer): Promise<void> {
    try {
      await tx.abort();
    } catch (e) {
      this.log(`abort failed (${(e as Error).message}); new producer`);
      await this.producer?.disconnect().catch(() => {});
      this.producer = await this.connected();
    }
  }

  /**
   * A new producer, initialised (InitProducerId). librdkafka gives up on a transaction coordinator that is
   * still loading (a fresh or restarted broker): retried for a minute.
   */
  private async connected(): Promise<CkProducer> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const p = this.newProducer();
      try {
        await p.connect();
        return p;
      } catch (e) {
        await p.disconnect().catch(() => {});
        if (Date.now() > deadline) throw e;
        this.log(`producer init failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}
