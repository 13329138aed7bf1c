// What travels on the internal topics, and the per-partition state it rebuilds.
//   by-product (key productId):  {kind:"order", order} | {kind:"stock", event, src, offset}
//   changelog  (compacted, partition = by-product partition):
//     p/<productId> {left, credit} units left (absent: no stock event seen = unknown product); credit: units
//                              sold ahead of stock (the backorder setting, broken on purpose)
//     o/<orderId>   {type}     the order was decided (idempotency across re-delivery)
//     s/<stockPartition> {next} next stock offset to apply from that partition (stock dedupe)
//     sync          {token}    restore barrier written by a new owner
import { z } from "zod";
import {
  orderPlacedSchema,
  parseJson,
  stockEventSchema,
  type OrderPlaced,
  type StockEvent,
} from "../contract/index.ts";

export const byProductSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("order"), order: orderPlacedSchema }),
  z.object({ kind: z.literal("stock"), event: stockEventSchema, src: z.number().int(), offset: z.number().int() }),
]);
export type ByProduct =
  { kind: "order"; order: OrderPlaced } | { kind: "stock"; event: StockEvent; src: number; offset: number };

export class PartitionState {
  left = new Map<string, number>();
  decided = new Map<string, string>();
  stockNext = new Map<number, number>();
  credit = new Map<string, number>();

  clone(): PartitionState {
    const c = new PartitionState();
    c.left = new Map(this.left);
    c.credit = new Map(this.credit);
    c.decided = new Map(this.decided);
    c.stockNext = new Map(this.stockNext);
    return c;
  }

  /** Applies one changelog record; returns the sync token if it was a barrier. */
  applyChangelog(key: string, value: Buffer | null): string | undefined {
    if (value === null) return undefined;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(value.toString("utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (key === "sync") return typeof v.token === "string" ? v.token : undefined;
    const rest = key.slice(2);
    if (key.startsWith("p/") && typeof v.left === "number") {
      this.left.set(rest, v.left);
      if (typeof v.credit === "number") this.credit.set(rest, v.credit);
    } else if (key.startsWith("o/") && typeof v.type === "string") this.decided.set(rest, v.type);
    else if (key.startsWith("s/") && typeof v.next === "number") this.stockNext.set(Number(rest), v.next);
    return undefined;
  }
}

export function parseByProduct(value: Buffer | null): ReturnType<typeof parseJson<ByProduct>> {
  return parseJson(byProductSchema as unknown as z.ZodType<ByProduct>, value);
}
