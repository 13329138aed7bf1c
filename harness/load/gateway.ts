// The order gateway: the OrderService of the original design, in front of one namespace.
//   POST /orders        publishes the body as OrderPlaced (key orderId) and answers 202 {orderId, partition, offset}
//   GET  /orders/:id    long-polls the order's decision (read_committed) ?timeoutMs=… (default 25 s, max 120 s):
//                       200 {orderId, status: <decision type>, decision, decisions} once final; 202 {orderId,
//                       status: "pending", decisions} when the wait ends first (202, not 204: the body carries the
//                       steps seen so far, e.g. a saga's OrderReserved; the client simply polls again)
//   GET  /health        200 once connected
// It passes bodies through without validating them: validation is the SUT's job, and the harness
// must be able to deliver malformed orders this way too (an unreadable body is published verbatim,
// keyed by the x-order-id header).
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Consumer, Producer } from "kafkajs";
import type { Connection } from "../../systems-under-test/contract/connection.ts";
import { kafkaClient } from "../kafka/client.ts";
import { decisionSchema, parseJson, type Decision } from "../../systems-under-test/contract/events.ts";
import { topicsFor } from "../../systems-under-test/contract/topics.ts";
import {
  classifySendError,
  idempotentProducer,
  partitionCount,
  sendBatch,
  type Outgoing,
  type Placed,
} from "./produce.ts";

export interface GatewayOptions {
  connection: Connection;
  ns: string;
  /** With a confirm step, OrderReserved is not the final answer. */
  confirms: boolean;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Bodies above this are refused (413). Default 2 MiB (the broker's limit is about 1 MB). */
  maxBodyBytes?: number;
  /** Requests arriving within this window share one produce request. */
  lingerMs?: number;
}

const TERMINAL_WITH_CONFIRM = new Set(["OrderConfirmed", "OrderCancelled", "ReservationExpired", "OrderRejected"]);

interface Pending {
  record: Outgoing;
  resolve: (p: Placed) => void;
  reject: (e: unknown) => void;
}

export class OrderGateway {
  private decisions = new Map<string, Decision[]>();
  private waiters = new Map<string, Set<() => void>>();
  private queue: Pending[] = [];
  private flushTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly opts: GatewayOptions,
    private readonly server: Server,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly partitions: number,
    readonly url: string,
  ) {}

  static async start(opts: GatewayOptions): Promise<OrderGateway> {
    const topics = topicsFor(opts.ns);
    // kafkajs's own 1 s connect timeout, as before the shared factory.
    const kafka = kafkaClient(opts.connection, "oversell-gateway", { connectionTimeout: 1000 });
    const admin = kafka.admin();
    await admin.connect();
    let partitions: number;
    try {
      partitions = await partitionCount(admin, topics.orders);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const producer = idempotentProducer(kafka);
    const consumer = kafka.consumer({
      groupId: `oversell.gateway.${opts.ns}.${randomBytes(3).toString("hex")}`,
      readUncommitted: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    let gw: OrderGateway | undefined;
    const server = createServer((req, res) => {
      if (!gw) return void send(res, 503, { error: "starting" });
      gw.handle(req, res).catch((e) => send(res, 500, { error: (e as Error).message }));
    });
    try {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topic: topics.decisions, fromBeginning: true });
      const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => gw?.observe(parseJson(decisionSchema, message.value)),
      });
      await joined;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
      });
    } catch (e) {
      server.close();
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      throw e;
    }
    const addr = server.address() as AddressInfo;
    gw = new OrderGateway(
      opts,
      server,
      producer,
      consumer,
      partitions,
      `http://${opts.host ?? "127.0.0.1"}:${addr.port}`,
    );
    return gw;
  }

  private observe(r: ReturnType<typeof parseJson<Decision>>): void {
    if (!r.ok) return;
    const d = r.value;
    const list = this.decisions.get(d.orderId) ?? [];
    list.push(d);
    this.decisions.set(d.orderId, list);
    const ws = this.waiters.get(d.orderId);
    if (ws) for (const w of ws) w();
  }

  /** The final decision, if any (for a confirming SUT OrderReserved is a step, not an answer). */
  decisionOf(orderId: string): Decision | undefined {
    const list = this.decisions.get(orderId) ?? [];
    return list.find((d) => !this.opts.confirms || TERMINAL_WITH_CONFIRM.has(d.type));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { ok: true });
    if (req.method === "POST" && url.pathname === "/orders") return this.post(req, res);
    const m = /^\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && m) {
      const timeoutMs = Math.min(Math.max(Number(url.searchParams.get("timeoutMs") ?? 25_000) || 0, 0), 120_000);
      return this.poll(decodeURIComponent(m[1]!), timeoutMs, res);
    }
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const max = this.opts.maxBodyBytes ?? 2 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > max) return send(res, 413, { error: `body over ${max} bytes` });
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const header = req.headers["x-order-id"];
    const headerId = typeof header === "string" && header ? header : undefined;
    let orderId: string;
    let value: Buffer;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const obj = parsed as Record<string, unknown>;
      orderId = typeof obj.orderId === "string" && obj.orderId ? obj.orderId : (headerId ?? randomUUID());
      const event = {
        type: "OrderPlaced",
        ...obj,
        orderId: obj.orderId ?? orderId,
        sentAtMs: obj.sentAtMs ?? Date.now(),
      };
      value = Buffer.from(JSON.stringify(event), "utf8");
    } else {
      orderId = headerId ?? randomUUID();
      value = body;
    }
    try {
      const placed = await this.enqueue({ key: orderId, value });
      send(res, 202, { orderId, ...placed });
    } catch (e) {
      const { status, error } = classifySendError(e);
      send(res, status === "failed" ? 502 : 503, { orderId, status, error });
    }
  }

  private enqueue(record: Outgoing): Promise<Placed> {
    if (this.closed) return Promise.reject(new Error("gateway closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.flushTimer ??= setTimeout(() => this.flush(), this.opts.lingerMs ?? 2);
    });
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    // Large values alone, so a batch stays under the broker's size limit.
    const groups: Pending[][] = [];
    const small: Pending[] = [];
    for (const p of batch) {
      if (p.record.value.length > 256 * 1024) groups.push([p]);
      else small.push(p);
    }
    if (small.length) groups.push(small);
    const topic = topicsFor(this.opts.ns).orders;
    for (const g of groups) {
      sendBatch(
        this.producer,
        topic,
        this.partitions,
        g.map((p) => p.record),
      ).then(
        (placed) => g.forEach((p, i) => p.resolve(placed[i]!)),
        (e) => g.forEach((p) => p.reject(e)),
      );
    }
  }

  private poll(orderId: string, timeoutMs: number, res: ServerResponse): void {
    const answer = () => {
      const d = this.decisionOf(orderId);
      if (!d) return false;
      send(res, 200, { orderId, status: d.type, decision: d, decisions: this.decisions.get(orderId) ?? [] });
      return true;
    };
    if (answer()) return;
    const ws = this.waiters.get(orderId) ?? new Set<() => void>();
    this.waiters.set(orderId, ws);
    const done = () => {
      ws.delete(wake);
      if (ws.size === 0) this.waiters.delete(orderId);
      clearTimeout(timer);
    };
    const wake = () => {
      if (answer()) done();
    };
    const timer = setTimeout(() => {
      done();
      send(res, 202, { orderId, status: "pending", decisions: this.decisions.get(orderId) ?? [] });
    }, timeoutMs);
    ws.add(wake);
    res.on("close", done);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flush();
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.consumer.disconnect().catch(() => {});
    await this.producer.disconnect().catch(() => {});
  }
}

/** A JSON answer (once; a closed response is left alone). */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
