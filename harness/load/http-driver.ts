// The http driver: delivers the order stream through the order gateway (POST /orders) with undici,
// open loop: every request leaves at its intended time, however slow earlier answers are.
// With `decisions`, each accepted order is then long-polled (GET /orders/:id) for its decision,
// on a separate connection pool so polls never delay the open-loop POSTs.
import { Pool } from "undici";
import { LatencyRecorder } from "../checker/latency.ts";
import { orderValue, type GeneratedOrder } from "../scenario/generate.ts";
import { runScheduleRange, sleep } from "./schedule.ts";
import {
  emptyStats,
  startTime,
  type ClientDecisions,
  type ClientDecisionStats,
  type LoadHandle,
  type LoadOptions,
  type LoadStats,
} from "./types.ts";

export interface HttpDecisionOptions {
  /** Concurrent long polls (= connections of the poll pool). Default 128. */
  concurrency?: number;
  /** Server-side wait of one poll (the gateway's ?timeoutMs). Default 5000. */
  pollMs?: number;
  /** Give up on an order this long after its intended send time (it counts as timedOut). Default 60 s. */
  timeoutMs?: number;
  /** Orders waiting for a poll slot beyond this are not polled (skipped): memory stays bounded. Default 100k. */
  maxQueued?: number;
  /** A final decision reached the client. */
  onDecision?: (o: GeneratedOrder, d: { status: string; intendedAtMs: number; seenAtMs: number }) => void;
}

export interface HttpLoadOptions extends Omit<LoadOptions, "connection" | "ns"> {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Concurrent connections (each request waits for a free one: requests beyond this queue in the client). */
  connections?: number;
  /** Long-poll each accepted order's decision (client-side decision latency). Off by default; when on,
   *  end the polls with handle.clientDecisions.settle(untilMs) or abort() (they outlive `done`). */
  decisions?: HttpDecisionOptions | true;
}

export async function startHttpLoad(opts: HttpLoadOptions): Promise<LoadHandle> {
  const poller = opts.decisions
    ? new DecisionPoller(opts.url, opts.decisions === true ? {} : opts.decisions)
    : undefined;
  const pool = new Pool(opts.url, { connections: opts.connections ?? 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const stats: LoadStats = emptyStats(opts.orders.length);
  const t0 = startTime(opts.t0);
  const poster: Poster = { opts, t0, pool, stats, timeoutMs: opts.ackTimeoutMs ?? 30_000, poller };
  const inflight = new Set<Promise<void>>();
  let aborted = false;

  const done = (async () => {
    try {
      await runScheduleRange({
        count: opts.orders.length,
        offsetAt: (i) => opts.orders.at(i)!.offsetMs,
        t0,
        aborted: () => aborted,
        fire: (from, to, nowMs) => {
          for (let i = from; i < to; i++) {
            const p = postOrder(poster, opts.orders.at(i)!, nowMs).finally(() => inflight.delete(p));
            inflight.add(p);
          }
        },
      });
      while (inflight.size > 0) await Promise.all([...inflight]);
      return stats;
    } finally {
      await pool.close().catch(() => {});
    }
  })();
  return {
    t0,
    stats,
    done,
    abort: () => {
      aborted = true;
      poller?.close();
    },
    clientDecisions: poller,
  };
}

/** What every POST of a load shares. */
interface Poster {
  opts: HttpLoadOptions;
  /** The load's start, fixed once the producers are ready. */
  t0: number;
  pool: Pool;
  stats: LoadStats;
  timeoutMs: number;
  poller: DecisionPoller | undefined;
}

/** One order, sent now; its answer counted (a thrown error or a timeout leaves its fate unknown). */
async function postOrder(c: Poster, o: GeneratedOrder, nowMs: number): Promise<void> {
  const { opts, stats } = c;
  const intended = c.t0 + o.offsetMs;
  stats.maxSendDelayMs = Math.max(stats.maxSendDelayMs, nowMs - intended);
  stats.sent++;
  stats.pending++;
  opts.onSent?.(o, intended, nowMs);
  try {
    const r = await c.pool.request({
      method: "POST",
      path: "/orders",
      headers: { "content-type": "application/json", "x-order-id": o.key },
      body: orderValue(o, nowMs),
      headersTimeout: c.timeoutMs,
      bodyTimeout: c.timeoutMs,
    });
    recordAnswer(c, o, intended, r.statusCode, await r.body.text());
  } catch (e) {
    stats.unknown++;
    opts.onError?.(o, { status: "unknown", error: (e as Error).message, atMs: Date.now() });
  } finally {
    stats.pending--;
  }
}

function recordAnswer(c: Poster, o: GeneratedOrder, intended: number, statusCode: number, text: string): void {
  const { opts, stats } = c;
  let body: { partition?: number; offset?: string; status?: string; error?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  const atMs = Date.now();
  if (statusCode === 202) {
    stats.acked++;
    opts.onAck?.(o, { partition: body.partition, offset: body.offset, ackAtMs: atMs });
    c.poller?.add(o, intended);
  } else {
    // 502: the broker refused for sure; anything else: the gateway could not tell.
    const status = statusCode === 502 || statusCode === 413 ? "failed" : "unknown";
    if (status === "failed") stats.failed++;
    else stats.unknown++;
    opts.onError?.(o, { status, error: `HTTP ${statusCode}: ${body.error ?? text.slice(0, 200)}`, atMs });
  }
}

interface PollItem {
  o: GeneratedOrder;
  intendedAtMs: number;
  deadlineMs: number;
}

/**
 * Bounded long polling: at most `concurrency` GETs in flight, a FIFO of orders waiting for a slot
 * (capped at maxQueued), an order still pending goes to the back. While others wait, a poll is
 * kept short (1 s) so one slow order does not hold a slot that a decided one could use.
 */
class DecisionPoller implements ClientDecisions {
  readonly stats: ClientDecisionStats = { polled: 0, decided: 0, timedOut: 0, skipped: 0, errors: 0, open: 0 };
  private readonly pool: Pool;
  private readonly recorder = new LatencyRecorder();
  private queue: PollItem[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private idle?: () => void;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly maxQueued: number;

  constructor(
    url: string,
    private readonly o: HttpDecisionOptions,
  ) {
    this.concurrency = Math.max(1, o.concurrency ?? 128);
    this.pollMs = Math.max(0, o.pollMs ?? 5000);
    this.timeoutMs = o.timeoutMs ?? 60_000;
    this.maxQueued = o.maxQueued ?? 100_000;
    this.pool = new Pool(url, { connections: this.concurrency, pipelining: 1, keepAliveTimeout: 10_000 });
  }

  add(o: GeneratedOrder, intendedAtMs: number): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.maxQueued) {
      this.stats.skipped++;
      return;
    }
    this.stats.polled++;
    this.stats.open++;
    this.queue.push({ o, intendedAtMs, deadlineMs: intendedAtMs + this.timeoutMs });
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.active < this.concurrency && this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as PollItem;
      this.active++;
      void this.pollOnce(item).finally(() => {
        this.active--;
        this.pump();
      });
    }
    // Drop the consumed front now and then so the array does not keep every order ever queued.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.stats.open === 0) this.idle?.();
  }

  private finish(outcome: "decided" | "timedOut"): void {
    this.stats[outcome]++;
    this.stats.open--;
  }

  private async pollOnce(item: PollItem): Promise<void> {
    const left = item.deadlineMs - Date.now();
    if (left <= 0) return this.finish("timedOut");
    const waiting = this.queue.length - this.head > 0;
    const wait = Math.max(0, Math.min(this.pollMs, left, waiting ? 1000 : this.pollMs));
    let retryAfterMs = 0;
    try {
      const r = await this.pool.request({
        method: "GET",
        path: `/orders/${encodeURIComponent(item.o.orderId)}?timeoutMs=${Math.round(wait)}`,
        headersTimeout: wait + 10_000,
        bodyTimeout: 10_000,
      });
      if (r.statusCode === 200) {
        const body = (await r.body.json()) as { status?: string };
        const seenAtMs = Date.now();
        this.recorder.recordMs(seenAtMs - item.intendedAtMs);
        this.finish("decided");
        this.o.onDecision?.(item.o, { status: String(body.status ?? "?"), intendedAtMs: item.intendedAtMs, seenAtMs });
        return;
      }
      await r.body.dump();
      // 202 = still pending (the gateway's long poll timed out): poll again; anything else is an error.
      if (r.statusCode !== 202) {
        this.stats.errors++;
        retryAfterMs = 200;
      } else if (wait < 50) {
        retryAfterMs = 50; // a near-zero wait would turn the long poll into a busy loop
      }
    } catch {
      if (this.closed) return;
      this.stats.errors++;
      retryAfterMs = 200;
    }
    if (retryAfterMs) await sleep(retryAfterMs);
    if (this.closed) return;
    this.queue.push(item);
  }

  async settle(
    untilMs: number,
  ): Promise<{ latencyUs: ReturnType<LatencyRecorder["summary"]>; polls: ClientDecisionStats }> {
    if (this.stats.open > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, untilMs - Date.now()));
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.close();
    return { latencyUs: this.recorder.summary(), polls: { ...this.stats } };
  }

  /** Stops polling; orders without an answer count as timedOut. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.timedOut += this.stats.open;
    this.stats.open = 0;
    this.queue = [];
    this.head = 0;
    void this.pool.destroy().catch(() => {}); // fails the polls in flight (ClientDestroyedError)
  }
}
