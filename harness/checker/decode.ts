// A decision record's value → Decision, fast: one JSON.parse and a hand check of the fields the contract
// requires; anything the hand check does not accept goes through the contract's zod schema, which decides
// (and gives the reason). The hand check only accepts what decisionSchema accepts.
import {
  decisionSchema,
  parseJson,
  REJECT_REASONS,
  type Decision,
  type Parsed,
} from "../../systems-under-test/contract/events.ts";

const TYPES = new Set(["OrderReserved", "OrderRejected", "OrderConfirmed", "OrderCancelled", "ReservationExpired"]);
const REJECT = new Set<string>(REJECT_REASONS);

function plainlyValid(v: unknown): v is Decision {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const d = v as Record<string, unknown>;
  const type = d.type,
    orderId = d.orderId,
    productId = d.productId;
  if (typeof type !== "string" || !TYPES.has(type)) return false;
  if (typeof orderId !== "string" || orderId.length < 1 || orderId.length > 200) return false;
  if (typeof productId !== "string" || productId.length > 200) return false;
  if (!Number.isSafeInteger(d.quantity) || typeof d.instance !== "string") return false;
  if (type === "OrderRejected") return typeof d.reason === "string" && REJECT.has(d.reason);
  if (type === "OrderCancelled") return typeof d.reason === "string";
  return true;
}

export function decodeDecision(value: Buffer | string | null | undefined): Parsed<Decision> {
  if (value === null || value === undefined) return { ok: false, reason: "empty value (tombstone)" };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
  } catch {
    return parseJson(decisionSchema, value);
  }
  return decodeDecisionValue(raw);
}

/** An already parsed value → Decision (the same checks). */
export function decodeDecisionValue(raw: unknown): Parsed<Decision> {
  if (plainlyValid(raw)) return { ok: true, value: raw };
  const r = decisionSchema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ") };
}
