// Run one SUT for real, the way the harness does, for tests and scripts: contract topics,
// stock events, N instance processes (InstanceGroup), orders in, decisions out (read_committed).
//
//   const run = await SutRun.create({ sut: "naive", connection, ns });
//   await run.setStock({ p1: 1 });          // StockSet events, before or during load
//   await run.start();                      // N instances, each printed READY
//   const sent = await run.placeOrders([{ productId: "p1" }, { productId: "p1" }]);
//   const log = await run.waitForDecisions((l) => l.decidedAll(sent.map((o) => o.orderId)), 60_000);
//   summarize(log, { p1: 1 }, sent);        // the harness checker on it: oversell, duplicates, undecided
//   await run.stop();                       // afterAll-safe, idempotent
//
// It never imports vitest, so scripts (scripts/sut-burst.ts) can use it too.
// First: kafkajs 2.2.4 lets aborted transactional records through to read_committed consumers.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import type { Consumer, Producer } from "kafkajs";
import {
  decisionSchema,
  encode,
  kafkaJsConfig,
  parseJson,
  topicsFor,
  type Connection,
  type ContractTopics,
  type Decision,
  type OrderPlaced,
} from "../../systems-under-test/contract/index.ts";
import { ALL_CHECKS, evaluate, type CheckInput, type CheckName, type Evaluation } from "../../harness/checker/index.ts";
import { loadManifest, type Manifest } from "../../harness/sut/manifest.ts";
import { InstanceGroup } from "../../harness/sut/instances.ts";

const { Kafka, logLevel } = kafkajs;

export interface SutRunOptions {
  /** SUT name (folder under systems-under-test/) or a folder with a sut.json. */
  sut: string;
  connection: Connection;
  /** Topic namespace; one per run (e.g. uniqueNs(...) in tests). */
  ns: string;
  /** Partitions of stock, orders and decisions (default 4). */
  partitions?: number;
  /** Instance count for start() (default: the manifest's). */
  instances?: number;
  /** Extra instance environment, e.g. { OVERSELL_SETTING_BATCH_SIZE: "10" }. */
  env?: Record<string, string>;
  /** Where instance logs go (default: a fresh temp dir). */
  logDir?: string;
}

/** An order to place; missing fields are generated (orderId unique, quantity 1). */
export interface OrderSpec {
  productId: string;
  orderId?: string;
  quantity?: number;
  customerId?: string;
}

export interface RawRecord {
  key: string | null;
  value: string | Buffer | null;
}

/** Everything read from <ns>.decisions so far (read_committed), in arrival order. */
export class DecisionLog {
  readonly all: Decision[] = [];
  readonly malformed: { partition: number; offset: string; reason: string }[] = [];
  readonly byOrder = new Map<string, Decision[]>();

  add(d: Decision): void {
    this.all.push(d);
    const list = this.byOrder.get(d.orderId);
    if (list) list.push(d);
    else this.byOrder.set(d.orderId, [d]);
  }

  /** Terminal decisions for one order (a confirming SUT's OrderReserved is not terminal). */
  terminal(orderId: string, confirms = false): Decision[] {
    return (this.byOrder.get(orderId) ?? []).filter((d) => isTerminal(d, confirms));
  }

  /** True when every orderId has at least one terminal decision. */
  decidedAll(orderIds: Iterable<string>, confirms = false): boolean {
    for (const id of orderIds) if (this.terminal(id, confirms).length === 0) return false;
    return true;
  }
}

export function isTerminal(d: Decision, confirms = false): boolean {
  // Without a confirm step, OrderReserved is final; with one, it is an intermediate state.
  return d.type !== "OrderReserved" || !confirms;
}

export interface RunSummary {
  orders: number;
  decided: number;
  /** orderIds without a terminal decision (a confirming SUT's OrderReserved is not terminal). */
  undecided: string[];
  /**
   * orderIds the checker flags `duplicate` (any decision type twice; up to 10 examples, see violations for the count).
   */
  duplicates: string[];
  /** orderIds the checker flags `conflict` (up to 10 examples). */
  conflicts: string[];
  stockTotal: number;
  unitsSold: number;
  /** Products where units sold (+ held) exceed stock, as the checker counts them. */
  oversold: { productId: string; stock: number; sold: number }[];
  /** Orders sold: reserved (confirms: confirmed). */
  reserved: number;
  rejected: Record<string, number>;
  /** The product's checker on this log: every check's count, and the full evaluation. */
  violations: Record<CheckName, number>;
  evaluation: Evaluation;
}

/**
 * The harness's own checker (evaluate()) on what a test read: units sold vs stock, duplicates, conflicts,
 * phantoms, as a bench would judge them. Decisions are taken in arrival order (one partition, seen = index).
 */
export function summarize(
  log: DecisionLog,
  stock: Record<string, number>,
  orders: Pick<OrderPlaced, "orderId" | "productId" | "quantity">[],
  confirms = false,
): RunSummary {
  const T0 = 1_000_000;
  const input: CheckInput = {
    confirms,
    claims: ["oversell", "duplicate", "conflict", "phantom", "invalid-accepted"],
    expectedViolations: [],
    products: Object.entries(stock).map(([productId, initial]) => ({ productId, initial, restocked: 0 })),
    orders: orders.map((o) => ({
      orderId: o.orderId,
      productId: o.productId,
      quantity: o.quantity,
      valid: true,
      intendedAtMs: T0,
      sentAtMs: T0,
      ackAtMs: T0,
      status: "acked",
    })),
    decisions: log.all.map((event, i) => ({
      event,
      seenAtMs: T0 + i,
      recordTimestampMs: T0 + i,
      partition: 0,
      offset: String(i),
    })),
    malformedDecisions: log.malformed,
    abortedDecisions: [],
    drainEndedAtMs: T0 + log.all.length,
    drainComplete: true,
    sutRunning: true,
    faults: [],
  };
  const ev = evaluate(input);
  const undecided = orders.filter((o) => log.terminal(o.orderId, confirms).length === 0).map((o) => o.orderId);
  const rejected: Record<string, number> = {};
  for (const o of orders) {
    const t = log.terminal(o.orderId, confirms);
    const rej = t.find((d) => d.type === "OrderRejected");
    if (rej && !t.some((d) => d.type === (confirms ? "OrderConfirmed" : "OrderReserved")) && "reason" in rej) {
      rejected[String(rej.reason)] = (rejected[String(rej.reason)] ?? 0) + 1;
    }
  }
  return {
    orders: orders.length,
    decided: orders.length - undecided.length,
    undecided,
    duplicates: ev.violations.duplicate.examples.map((x) => x.id),
    conflicts: ev.violations.conflict.examples.map((x) => x.id),
    stockTotal: ev.units.stock,
    unitsSold: ev.units.sold,
    oversold: ev.products
      .filter((p) => p.sold + p.held > p.stock)
      .map((p) => ({ productId: p.productId, stock: p.stock, sold: p.sold + p.held })),
    reserved: confirms ? ev.orders.confirmed : ev.orders.reserved,
    rejected,
    violations: Object.fromEntries(ALL_CHECKS.map((c) => [c, ev.violations[c].count])) as Record<CheckName, number>,
    evaluation: ev,
  };
}

export class SutRun {
  readonly topics: ContractTopics;
  readonly group: InstanceGroup;
  readonly decisions = new DecisionLog();
  private producer?: Producer;
  private reader?: Consumer;
  private stopped = false;
  private seq = 0;
  private readonly runTag = randomBytes(3).toString("hex");

  private constructor(
    readonly opts: SutRunOptions,
    readonly manifest: Manifest,
    readonly logDir: string,
  ) {
    this.topics = topicsFor(opts.ns);
    this.group = new InstanceGroup({ manifest, ns: opts.ns, connection: opts.connection, logDir, env: opts.env });
  }

  /** Creates the contract topics, connects a producer and starts reading decisions. No instance yet. */
  static async create(opts: SutRunOptions): Promise<SutRun> {
    const manifest = loadManifest(opts.sut);
    InstanceGroup.build(manifest);
    const logDir = opts.logDir ?? mkdtempSync(join(tmpdir(), `oversell-sut-${manifest.name}-`));
    const run = new SutRun(opts, manifest, logDir);
    try {
      await run.init();
    } catch (e) {
      await run.stop();
      throw e;
    }
    return run;
  }

  private kafka(clientId: string) {
    return new Kafka(kafkaJsConfig(this.opts.connection, clientId, { logLevel: logLevel.NOTHING }));
  }

  private async init(): Promise<void> {
    const admin = this.kafka("oversell-sut-run-admin").admin();
    await admin.connect();
    try {
      const numPartitions = this.opts.partitions ?? 4;
      await admin.createTopics({
        waitForLeaders: true,
        topics: [this.topics.stock, this.topics.orders, this.topics.decisions].map((topic) => ({
          topic,
          numPartitions,
          replicationFactor: 1,
        })),
      });
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka("oversell-sut-run-producer").producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    this.reader = this.kafka("oversell-sut-run-reader").consumer({
      groupId: `oversell.test-reader.${this.opts.ns}.${this.runTag}`,
      readUncommitted: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 200,
    });
    await this.reader.connect();
    await this.reader.subscribe({ topic: this.topics.decisions, fromBeginning: true });
    let joined!: () => void;
    const joinedP = new Promise<void>((r) => (joined = r));
    this.reader.on(this.reader.events.GROUP_JOIN, () => joined());
    await this.reader.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const r = parseJson(decisionSchema, message.value);
        if (r.ok) this.decisions.add(r.value);
        else this.decisions.malformed.push({ partition, offset: message.offset, reason: r.reason });
      },
    });
    await joinedP;
  }

  /** StockSet per product (key productId). */
  async setStock(stock: Record<string, number>): Promise<void> {
    const messages = Object.entries(stock).map(([productId, quantity]) => ({
      key: productId,
      value: encode({ type: "StockSet", productId, quantity }),
    }));
    await this.producer!.send({ topic: this.topics.stock, acks: -1, messages });
  }

  /** StockAdded (a restock). */
  async addStock(productId: string, quantity: number): Promise<void> {
    await this.producer!.send({
      topic: this.topics.stock,
      acks: -1,
      messages: [{ key: productId, value: encode({ type: "StockAdded", productId, quantity }) }],
    });
  }

  /** Starts `count` instances (default: options, then manifest) and waits for each ready line. */
  async start(count = this.opts.instances ?? this.manifest.instances): Promise<void> {
    await this.group.startAll(count);
  }

  /** Produces OrderPlaced events (key orderId) in one request per call; returns what was sent. */
  async placeOrders(specs: OrderSpec[]): Promise<OrderPlaced[]> {
    const now = Date.now();
    const orders: OrderPlaced[] = specs.map((s) => ({
      type: "OrderPlaced",
      orderId: s.orderId ?? `o-${this.runTag}-${++this.seq}`,
      productId: s.productId,
      quantity: s.quantity ?? 1,
      customerId: s.customerId ?? `c-${this.seq}`,
      sentAtMs: now,
    }));
    await this.producer!.send({
      topic: this.topics.orders,
      acks: -1,
      messages: orders.map((o) => ({ key: o.orderId, value: encode(o) })),
    });
    return orders;
  }

  /** Raw records (poison pills) on `orders` (or another contract topic). */
  async produceRaw(records: RawRecord[], topic = this.topics.orders): Promise<void> {
    await this.producer!.send({ topic, acks: -1, messages: records.map((r) => ({ key: r.key, value: r.value })) });
  }

  /** Waits until pred(decisions) holds; returns the log, or throws with a summary after timeoutMs. */
  async waitForDecisions(pred: (log: DecisionLog) => boolean, timeoutMs: number): Promise<DecisionLog> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pred(this.decisions)) return this.decisions;
      if (Date.now() > deadline) {
        throw new Error(
          `decisions of ${this.manifest.name} did not reach the expected state within ` +
            `${timeoutMs} ms (${this.decisions.all.length} read; logs in ${this.logDir})`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Like waitForDecisions, but returns false instead of throwing at the deadline. */
  async waitQuietly(pred: (log: DecisionLog) => boolean, timeoutMs: number): Promise<boolean> {
    try {
      await this.waitForDecisions(pred, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops instances (SIGTERM, then SIGKILL) and disconnects; safe to call twice or after a failed create. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.group.stopAll(graceMs).catch(() => {});
    await this.reader?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
  }
}
