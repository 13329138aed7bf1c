// The product side: owns stock and every reservation's fate. Inputs (co-partitioned by
// productId): <ns>.stock and <ns>.saga.reserve-commands. Because one task handles all
// commands for a product one at a time, check-and-reserve is atomic, and a Confirm racing
// the expiry timer is decided here, once: whichever is processed first wins.
import type { Admin, KafkaMessage } from "kafkajs";
import { parseJson, stockEventSchema } from "../contract/index.ts";
import { commandSchema, type Reply } from "./messages.ts";
import type { Log, Task, TaskContext, TaskLogic } from "./runtime.ts";

/** `s:<productId>`: total = StockSet + StockAdded; used = held + sold. Available = total - used. */
export interface StockState {
  total: number;
  used: number;
}

/** `r:<orderId>`: one reservation; `dueAt` (its expiry) only while HELD. */
export interface Reservation {
  productId: string;
  quantity: number;
  s: "HELD" | "CONFIRMED" | "CANCELLED" | "EXPIRED" | "REJECTED";
  replyPartition: number;
  dueAt?: number;
}

export interface ProductSideOptions {
  stockTopic: string;
  commandsTopic: string;
  repliesTopic: string;
  ttlMs: number;
  admin: Admin;
  log: Log;
}

export function productLogic(o: ProductSideOptions): TaskLogic {
  // Stock end offsets, and when they were read: a Reserve is only judged once the task has
  // consumed every stock record appended before the Reserve was produced.
  let stockEnd = new Map<number, { low: bigint; high: bigint }>();
  let stockEndAt = 0;
  let refreshing: Promise<void> | undefined;
  const refresh = async () => {
    refreshing ??= (async () => {
      const at = Date.now();
      const offsets = await o.admin.fetchTopicOffsets(o.stockTopic);
      stockEnd = new Map(offsets.map((x) => [x.partition, { low: BigInt(x.low), high: BigInt(x.high) }]));
      stockEndAt = at;
    })().finally(() => (refreshing = undefined));
    await refreshing;
  };

  const reply = (ctx: TaskContext, partition: number, r: Reply) =>
    ctx.emit({ topic: o.repliesTopic, key: r.orderId, partition, value: r });

  const release = (ctx: TaskContext, r: Reservation) => {
    const key = `s:${r.productId}`;
    const s = ctx.kv.get<StockState>(key) ?? { total: 0, used: r.quantity };
    ctx.kv.put(key, { ...s, used: s.used - r.quantity });
  };

  return {
    async ready(task: Task, topic: string, messages: KafkaMessage[]): Promise<boolean> {
      if (topic !== o.commandsTopic) return true;
      // Offsets read after the newest command was produced cover every stock record appended
      // before it (one clock: CreateTime of our own producers vs. this host's time).
      const newest = Math.max(...messages.map((m) => Number(m.timestamp)));
      for (let i = 0; i < 2 && stockEndAt < newest; i++) {
        try {
          await refresh();
        } catch (e) {
          o.log(`product: reading stock offsets failed: ${(e as Error).message}`);
          return false;
        }
      }
      const end = stockEnd.get(task.partition);
      if (!end) return true;
      const pos = BigInt(task.position(o.stockTopic) ?? end.low.toString());
      return pos >= end.high;
    },

    handle(ctx, topic, m) {
      if (topic === o.stockTopic) {
        const r = parseJson(stockEventSchema, m.value);
        if (!r.ok) {
          o.log(`product: skipping malformed stock record at ${ctx.partition}/${m.offset}: ${r.reason}`);
          return;
        }
        const e = r.value;
        const key = `s:${e.productId}`;
        const s = ctx.kv.get<StockState>(key) ?? { total: 0, used: 0 };
        // StockSet fixes the total, not what is left: units already held or sold stay counted.
        ctx.kv.put(key, { ...s, total: e.type === "StockSet" ? e.quantity : s.total + e.quantity });
        return;
      }
      const r = parseJson(commandSchema, m.value);
      if (!r.ok) {
        o.log(`product: skipping malformed command at ${ctx.partition}/${m.offset}: ${r.reason}`);
        return;
      }
      const c = r.value;
      const rkey = `r:${c.orderId}`;
      const res = ctx.kv.get<Reservation>(rkey);
      switch (c.type) {
        case "Reserve": {
          if (res) return; // redelivered: its reply was committed with the state
          const skey = `s:${c.productId}`;
          const s = ctx.kv.get<StockState>(skey);
          const base = { productId: c.productId, quantity: c.quantity, replyPartition: c.replyPartition };
          if (!s || s.total - s.used < c.quantity) {
            ctx.kv.put(rkey, { ...base, s: "REJECTED" } satisfies Reservation);
            reply(ctx, c.replyPartition, {
              type: "Rejected",
              orderId: c.orderId,
              reason: s ? "OUT_OF_STOCK" : "UNKNOWN_PRODUCT",
            });
            return;
          }
          ctx.kv.put(skey, { ...s, used: s.used + c.quantity });
          const expiresAtMs = ctx.now + o.ttlMs;
          ctx.kv.put(rkey, { ...base, s: "HELD", dueAt: expiresAtMs } satisfies Reservation);
          reply(ctx, c.replyPartition, { type: "Reserved", orderId: c.orderId, expiresAtMs });
          return;
        }
        case "Confirm": {
          // After expiry (or a cancel) the fate is already sealed and was replied: nothing to do.
          if (res?.s !== "HELD") return;
          ctx.kv.put(rkey, { ...res, s: "CONFIRMED", dueAt: undefined });
          reply(ctx, res.replyPartition, { type: "Confirmed", orderId: c.orderId });
          return;
        }
        case "Cancel": {
          if (res?.s !== "HELD") return;
          release(ctx, res);
          ctx.kv.put(rkey, { ...res, s: "CANCELLED", dueAt: undefined });
          reply(ctx, res.replyPartition, { type: "Cancelled", orderId: c.orderId, reason: c.reason });
          return;
        }
      }
    },

    due(ctx, key, value) {
      const res = value as Reservation;
      if (res.s !== "HELD") {
        ctx.kv.put(key, { ...res, dueAt: undefined });
        return;
      }
      release(ctx, res);
      ctx.kv.put(key, { ...res, s: "EXPIRED", dueAt: undefined });
      reply(ctx, res.replyPartition, { type: "Expired", orderId: key.slice(2) });
    },
  };
}
