// The order side (process manager): one state machine per order, the only writer of
// decisions. Inputs (co-partitioned by orderId): <ns>.orders and <ns>.saga.replies.
//   RESERVING --Reserved--> RESERVED --payment--> CONFIRMING | CANCELLING --reply--> DONE
//   RESERVING --Rejected--> DONE;  RESERVED/CONFIRMING/CANCELLING --Expired--> DONE
// A reply that does not fit the current state (redelivery, late) changes nothing.
import { createHash } from "node:crypto";
import { parseOrderRecord, type Decision } from "../contract/index.ts";
import { parseJson } from "../contract/index.ts";
import { replySchema, type Command } from "./messages.ts";
import type { Log, TaskContext, TaskLogic } from "./runtime.ts";

export interface OrderState {
  s: "RESERVING" | "RESERVED" | "CONFIRMING" | "CANCELLING" | "DONE";
  productId: string;
  quantity: number;
  /** The terminal decision, once DONE. */
  outcome?: Decision["type"];
  /** While RESERVED: when the simulated payment completes. */
  dueAt?: number;
}

export interface OrderSideOptions {
  ordersTopic: string;
  repliesTopic: string;
  commandsTopic: string;
  decisionsTopic: string;
  instance: string;
  paymentFailureRate: number;
  paymentDelayMs: number;
  log: Log;
}

/** Deterministic per orderId, so a replay decides the same. */
export function paymentFails(orderId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const h = createHash("sha256").update(orderId).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < rate;
}

export function orderLogic(o: OrderSideOptions): TaskLogic {
  const decide = (
    ctx: TaskContext,
    orderId: string,
    st: Pick<OrderState, "productId" | "quantity">,
    type: Decision["type"],
    extra: object = {},
  ) =>
    ctx.emit({
      topic: o.decisionsTopic,
      key: orderId,
      value: { type, orderId, productId: st.productId, quantity: st.quantity, instance: o.instance, ...extra },
    });
  const command = (ctx: TaskContext, c: Command) => ctx.emit({ topic: o.commandsTopic, key: c.productId, value: c });
  const finish = (ctx: TaskContext, orderId: string, st: OrderState, outcome: Decision["type"], extra: object = {}) => {
    ctx.kv.put(`o:${orderId}`, {
      productId: st.productId,
      quantity: st.quantity,
      s: "DONE",
      outcome,
    } satisfies OrderState);
    decide(ctx, orderId, st, outcome, extra);
  };
  const pay = (ctx: TaskContext, orderId: string, st: OrderState) => {
    if (paymentFails(orderId, o.paymentFailureRate)) {
      ctx.kv.put(`o:${orderId}`, { ...st, s: "CANCELLING", dueAt: undefined });
      command(ctx, { type: "Cancel", orderId, productId: st.productId, reason: "PAYMENT_FAILED" });
    } else {
      ctx.kv.put(`o:${orderId}`, { ...st, s: "CONFIRMING", dueAt: undefined });
      command(ctx, { type: "Confirm", orderId, productId: st.productId });
    }
  };

  return {
    handle(ctx, topic, m) {
      if (topic === o.ordersTopic) {
        const r = parseOrderRecord(m.key, m.value);
        const orderId = r.ok ? r.order.orderId : r.orderId;
        if (ctx.kv.get(`o:${orderId}`)) return; // duplicate order record: first one wins
        if (!r.ok) {
          o.log(`order: INVALID ${orderId} at ${ctx.partition}/${m.offset}: ${r.detail}`);
          finish(ctx, orderId, { s: "RESERVING", productId: r.productId, quantity: r.quantity }, "OrderRejected", {
            reason: "INVALID",
            detail: r.detail.slice(0, 500),
          });
          return;
        }
        const { productId, quantity } = r.order;
        ctx.kv.put(`o:${orderId}`, { s: "RESERVING", productId, quantity } satisfies OrderState);
        command(ctx, { type: "Reserve", orderId, productId, quantity, replyPartition: ctx.partition });
        return;
      }
      const r = parseJson(replySchema, m.value);
      if (!r.ok) {
        o.log(`order: skipping malformed reply at ${ctx.partition}/${m.offset}: ${r.reason}`);
        return;
      }
      const rep = r.value;
      const st = ctx.kv.get<OrderState>(`o:${rep.orderId}`);
      if (!st) {
        o.log(`order: reply ${rep.type} for unknown order ${rep.orderId}`);
        return;
      }
      switch (rep.type) {
        case "Reserved":
          if (st.s !== "RESERVING") return;
          decide(ctx, rep.orderId, st, "OrderReserved");
          if (o.paymentDelayMs <= 0) pay(ctx, rep.orderId, { ...st, s: "RESERVED" });
          else
            ctx.kv.put(`o:${rep.orderId}`, {
              ...st,
              s: "RESERVED",
              dueAt: ctx.now + o.paymentDelayMs,
            } satisfies OrderState);
          return;
        case "Rejected":
          if (st.s === "RESERVING") finish(ctx, rep.orderId, st, "OrderRejected", { reason: rep.reason });
          return;
        case "Confirmed":
          if (st.s === "CONFIRMING") finish(ctx, rep.orderId, st, "OrderConfirmed");
          return;
        case "Cancelled":
          if (st.s === "CANCELLING") finish(ctx, rep.orderId, st, "OrderCancelled", { reason: rep.reason });
          return;
        case "Expired":
          // The product side expired the hold before any confirm or cancel reached it.
          if (st.s === "RESERVED" || st.s === "CONFIRMING" || st.s === "CANCELLING")
            finish(ctx, rep.orderId, st, "ReservationExpired");
          return;
      }
    },

    due(ctx, key, value) {
      const st = value as OrderState;
      if (st.s === "RESERVED") pay(ctx, key.slice(2), st);
      else ctx.kv.put(key, { ...st, dueAt: undefined });
    },
  };
}
