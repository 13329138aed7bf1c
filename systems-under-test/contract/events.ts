// The event contract every SUT and the harness speak (docs/ARCHITECTURE.md, "The contract").
// Values are UTF-8 JSON with a `type` discriminator; unknown extra fields are kept.
import { z } from "zod";

const id = z.string().min(1).max(200);
const qty = z.number().int();

export const stockSetSchema = z.looseObject({ type: z.literal("StockSet"), productId: id, quantity: qty.min(0) });
export const stockAddedSchema = z.looseObject({ type: z.literal("StockAdded"), productId: id, quantity: qty.min(1) });
export const stockEventSchema = z.discriminatedUnion("type", [stockSetSchema, stockAddedSchema]);

export const orderPlacedSchema = z.looseObject({
  type: z.literal("OrderPlaced"),
  orderId: id,
  productId: id,
  quantity: qty.min(1, "quantity must be at least 1"),
  customerId: z.string().max(200),
  /** When the producer sent it (epoch ms). */
  sentAtMs: z.number(),
  /**
   * Optional: when the producer meant to send it (epoch ms, its open-loop schedule), so a checker reading only the
   * topic measures latency from there. Informational: a bad value is dropped, never makes the order invalid.
   */
  intendedAtMs: z.number().optional().catch(undefined),
});

export const REJECT_REASONS = ["OUT_OF_STOCK", "INVALID", "UNKNOWN_PRODUCT"] as const;
export const CANCEL_REASONS = ["PAYMENT_FAILED", "CUSTOMER_CANCELLED"] as const;
export const DECISION_TYPES = [
  "OrderReserved",
  "OrderRejected",
  "OrderConfirmed",
  "OrderCancelled",
  "ReservationExpired",
] as const;

// productId/quantity may be empty/0 on a rejection of an order too malformed to read.
const decisionBase = { orderId: id, productId: z.string().max(200), quantity: qty, instance: z.string() };
export const decisionSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("OrderReserved"), ...decisionBase }),
  z.looseObject({ type: z.literal("OrderRejected"), ...decisionBase, reason: z.enum(REJECT_REASONS) }),
  z.looseObject({ type: z.literal("OrderConfirmed"), ...decisionBase }),
  z.looseObject({ type: z.literal("OrderCancelled"), ...decisionBase, reason: z.string() }),
  z.looseObject({ type: z.literal("ReservationExpired"), ...decisionBase }),
]);

export type StockEvent = z.infer<typeof stockEventSchema>;
export type OrderPlaced = z.infer<typeof orderPlacedSchema>;
export type Decision = z.infer<typeof decisionSchema>;
export type DecisionType = (typeof DECISION_TYPES)[number];
export type RejectReason = (typeof REJECT_REASONS)[number];

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Never throws: a poison pill becomes a reason, and the consumer goes on. */
export function parseJson<T>(schema: z.ZodType<T>, value: Buffer | string | null | undefined): Parsed<T> {
  if (value === null || value === undefined) return { ok: false, reason: "empty value (tombstone)" };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
  } catch (e) {
    return { ok: false, reason: `not JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ") };
}

export type OrderInput =
  | { ok: true; order: OrderPlaced }
  | { ok: false; orderId: string; productId: string; quantity: number; reason: "INVALID"; detail: string };

/**
 * An incoming `orders` record as either a valid order or an INVALID rejection to publish.
 * The record key is the orderId, so even unreadable JSON can be answered.
 */
export function parseOrderRecord(
  key: Buffer | string | null | undefined,
  value: Buffer | string | null | undefined,
): OrderInput {
  const r = parseJson(orderPlacedSchema, value);
  if (r.ok) return { ok: true, order: r.value };
  // Salvage what we can for the rejection, without trusting the types.
  let loose: Record<string, unknown> = {};
  try {
    const v = JSON.parse(value == null ? "null" : value.toString());
    if (v && typeof v === "object") loose = v as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  const keyStr = key == null ? "" : key.toString();
  const orderId = typeof loose.orderId === "string" && loose.orderId ? loose.orderId : keyStr;
  return {
    ok: false,
    orderId: orderId.slice(0, 200) || "(no key)",
    productId: typeof loose.productId === "string" ? loose.productId.slice(0, 200) : "",
    // An unsafe integer would make the rejection itself invalid.
    quantity: typeof loose.quantity === "number" && Number.isSafeInteger(loose.quantity) ? loose.quantity : 0,
    reason: "INVALID",
    detail: r.reason,
  };
}

export function encode(event: object): Buffer {
  return Buffer.from(JSON.stringify(event), "utf8");
}
