// The saga's internal protocol: commands to the product side (key productId) and its
// replies to the order side (key orderId, sent to the order's own partition).
import { z } from "zod";

const id = z.string().min(1).max(200);

export const commandSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("Reserve"),
    orderId: id,
    productId: id,
    quantity: z.number().int().min(1),
    replyPartition: z.number().int().min(0),
  }),
  z.object({ type: z.literal("Confirm"), orderId: id, productId: id }),
  z.object({ type: z.literal("Cancel"), orderId: id, productId: id, reason: z.string() }),
]);
export type Command = z.infer<typeof commandSchema>;

export const replySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("Reserved"), orderId: id, expiresAtMs: z.number() }),
  z.object({ type: z.literal("Rejected"), orderId: id, reason: z.enum(["OUT_OF_STOCK", "UNKNOWN_PRODUCT"]) }),
  z.object({ type: z.literal("Confirmed"), orderId: id }),
  z.object({ type: z.literal("Cancelled"), orderId: id, reason: z.string() }),
  z.object({ type: z.literal("Expired"), orderId: id }),
]);
export type Reply = z.infer<typeof replySchema>;
