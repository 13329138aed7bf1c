// The http driver: delivers the order stream through the order gateway (POST /orders) with undici,
// open loop: every request leaves at its intended time, however slow earlier answers are.
import { Pool } from "undici";
import { orderValue, type GeneratedOrder } from "../scenario/generate.ts";
import { runSchedule } from "./schedule.ts";
import { emptyStats, type LoadHandle, type LoadOptions, type LoadStats } from "./types.ts";

export interface HttpLoadOptions extends Omit<LoadOptions, "connection" | "ns"> {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Concurrent connections (each request waits for a free one: requests beyond this queue in the client). */
  connections?: number;
}

export async function startHttpLoad(opts: HttpLoadOptions): Promise<LoadHandle> {
  const pool = new Pool(opts.url, { connections: opts.connections ?? 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const stats: LoadStats = emptyStats(opts.orders.length);
  const timeoutMs = opts.ackTimeoutMs ?? 30_000;
  const inflight = new Set<Promise<void>>();
  let aborted = false;

  const post = async (o: GeneratedOrder, nowMs: number): Promise<void> => {
    const intended = opts.t0 + o.offsetMs;
    stats.maxSendDelayMs = Math.max(stats.maxSendDelayMs, nowMs - intended);
    stats.sent++;
    stats.pending++;
    opts.onSent?.(o, intended, nowMs);
    try {
      const r = await pool.request({
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json", "x-order-id": o.key },
        body: orderValue(o, nowMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await r.body.text();
      let body: { partition?: number; offset?: string; status?: string; error?: string } = {};
      try {
        body = JSON.parse(text);
      } catch {
        /* reported below */
      }
      const atMs = Date.now();
      if (r.statusCode === 202) {
        stats.acked++;
        opts.onAck?.(o, { partition: body.partition, offset: body.offset, ackAtMs: atMs });
      } else {
        // 502: the broker refused for sure; anything else: the gateway could not tell.
        const status = r.statusCode === 502 || r.statusCode === 413 ? "failed" : "unknown";
        if (status === "failed") stats.failed++;
        else stats.unknown++;
        opts.onError?.(o, { status, error: `HTTP ${r.statusCode}: ${body.error ?? text.slice(0, 200)}`, atMs });
      }
    } catch (e) {
      stats.unknown++;
      opts.onError?.(o, { status: "unknown", error: (e as Error).message, atMs: Date.now() });
    } finally {
      stats.pending--;
    }
  };

  const done = (async () => {
    try {
      await runSchedule({
        items: opts.orders,
        t0: opts.t0,
        aborted: () => aborted,
        fire: (due, nowMs) => {
          for (const o of due) {
            const p = post(o, nowMs).finally(() => inflight.delete(p));
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
  return { stats, done, abort: () => void (aborted = true) };
}
