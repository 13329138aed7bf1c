// Closed-loop max throughput of the order gateway with autocannon: N connections, each sends the next
// POST /orders as soon as the previous answer arrives, for a duration (or a request count).
// This measures what the gateway + broker accept per second; it is not an open-loop latency figure
// (a slow answer delays the next request: coordinated omission by construction). The open-loop
// latency path is the http driver (startHttpLoad).
import autocannon from "autocannon";
import { randomBytes } from "node:crypto";

export interface ClosedLoopOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Concurrent connections (default 16). */
  connections?: number;
  /** Seconds to run (default 10); ignored when `amount` is set. */
  durationSec?: number;
  /** Stop after this many requests instead of a duration. */
  amount?: number;
  /** Products the orders are for, in turn (they should have stock for a SUT to reserve). */
  products: readonly string[];
  quantity?: number;
  /** orderIds are `<prefix>-<n>`; default a random one per call. */
  idPrefix?: string;
  /** Seconds without an answer before a request counts as a timeout (default 10). */
  timeoutSec?: number;
  /** Each accepted (202) orderId, e.g. to wait for decisions afterwards. */
  onAccepted?: (orderId: string) => void;
}

export interface ClosedLoopResult {
  url: string;
  connections: number;
  durationSec: number;
  /** Completed requests (any status). */
  requests: number;
  /** Completed requests / wall seconds. */
  requestsPerSec: number;
  /** 202 answers: orders on the orders topic. */
  accepted: number;
  acceptedPerSec: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** POST latency (request to answer), ms; closed loop, so it hides queueing the server pushed back. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  if (o.products.length === 0) throw new Error("closed loop: no products");
  const prefix = o.idPrefix ?? `cl-${randomBytes(3).toString("hex")}`;
  const quantity = o.quantity ?? 1;
  let n = 0;
  const instance = autocannon({
    url: o.url,
    connections: o.connections ?? 16,
    ...(o.amount ? { amount: o.amount } : { duration: o.durationSec ?? 10 }),
    timeout: o.timeoutSec ?? 10,
    requests: [
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        setupRequest: (req, context) => {
          const i = n++;
          const orderId = `${prefix}-${i}`;
          context.orderId = orderId;
          const body = JSON.stringify({
            type: "OrderPlaced",
            orderId,
            productId: o.products[i % o.products.length],
            quantity,
            customerId: `c-${i % 1000}`,
            sentAtMs: Date.now(),
          });
          return { ...req, body };
        },
        onResponse: (status, _body, context) => {
          if (status === 202 && typeof context.orderId === "string") o.onAccepted?.(context.orderId);
        },
      },
    ],
  });
  const r = await instance;
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, Number(v.count)]));
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const wallSec = Math.max(1e-3, (r.finish.getTime() - r.start.getTime()) / 1000);
  const accepted = statusCodes["202"] ?? 0;
  const l = r.latency;
  return {
    url: o.url,
    connections: r.connections,
    durationSec: Number(wallSec.toFixed(3)),
    requests,
    requestsPerSec: Math.round(requests / wallSec),
    accepted,
    acceptedPerSec: Math.round(accepted / wallSec),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p99_9, max: l.max, mean: Number(l.mean.toFixed(2)) },
  };
}
