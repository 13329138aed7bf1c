// oversell-in-time: per product, at every instant, the units held by decisions certainly committed by then
// must not exceed the stock that could exist by then (initial + restocks whose send had started). Only sound
// evidence, all from one machine clock (the harness's and the checker's Date.now; SUTs on the same host):
//  - a decision was committed no later than when the checker saw it (read_committed: visible after commit);
//  - a restock cannot be used before the harness started sending it (stamped just before the send);
//  - a release may have happened inside the SUT before its decision was written (saga's product side frees
//    the unit, its order side writes OrderCancelled/ReservationExpired later), so the decision's time bounds
//    nothing: a cancelled order is taken as released from the moment it was sent, an expired one from its
//    first send + the reservation TTL (a SUT that honours its TTL cannot expire a hold earlier).
// Every bound is widened by a margin on each side (clock steps, ms rounding). The sweep runs once at the end
// over the fates' typed columns: events in typed arrays, sorted per product; no per-order object.
import type { Judge } from "./judge.ts";
import { CANCELLED, EXPIRED, MAX_EXAMPLES } from "./rules.ts";
import type { InTimeInstant } from "./types.ts";

/**
 * Widening applied to every time bound (ms): a hold counts from seen + margin, a restock from its send start −
 * margin, an expiry from first send + TTL − margin. The evidence is causal (stamped before the send, seen after
 * the commit), so load only moves stamps in the safe direction; the margin covers the clock itself (1 ms
 * rounding, NTP slewing of at most 0.5 ms/s), hundreds of times over. See README.md "oversell-in-time".
 */
export const IN_TIME_MARGIN_MS = 500;
/** Holders listed per example. */
const MAX_HOLDERS = 20;

export interface InTimeFlag {
  product: number;
  instant: InTimeInstant;
  /** The orders holding the product at the instant (first MAX_HOLDERS, by slot). */
  holders: { orderId: string; quantity: number; seenAtMs: number; partition: number }[];
  /** How many orders held it then. */
  holderCount: number;
  /** The next restock send after the instant (ms since the epoch), if any. */
  nextRestockAtMs?: number;
}

export interface InTimeResult {
  /** false: no sound evidence (seen times are record times); nothing was judged. */
  judged: boolean;
  /** Why not judged, or which products were left out (restock send times unknown). */
  note?: string;
  /** Products certainly oversold at some instant. */
  count: number;
  /** The first violating instant of the first MAX_EXAMPLES such products. */
  flags: InTimeFlag[];
  marginMs: number;
}

const RESTOCK = 0,
  RELEASE = 1,
  HOLD = 2;

/** When an order certainly holds its units: [start, end) in epoch ms; undefined if it never certainly does. */
function holdInterval(j: Judge, s: number, ttlMs: number, m: number): [number, number] | undefined {
  const f = j.fates;
  const p = f.accProduct[s]!,
    q = f.accQty[s]!;
  if (p < 0 || j.stock[p] === undefined || !(q > 0) || j.restockSends[p] === undefined) return undefined;
  const res = f.res[s]!,
    conf = f.conf[s]!;
  const seen = Number.isNaN(res) ? conf : Number.isNaN(conf) ? res : Math.min(res, conf);
  if (Number.isNaN(seen)) return undefined;
  const start = seen + m;
  if (j.count(s, CANCELLED) > 0) return undefined;
  if (j.count(s, EXPIRED) > 0) {
    if (!(ttlMs > 0) || s >= j.book.size) return undefined;
    const end = firstSend(j, s) + ttlMs - m;
    return end > start ? [start, end] : undefined;
  }
  return [start, Infinity];
}

/** The earliest the harness sent an orderId (its sends' stamps, else intended times: never early). */
function firstSend(j: Judge, v: number): number {
  const b = j.book;
  let t = Infinity;
  for (const r of [v, ...(b.extras.get(v) ?? [])]) {
    const at = Number.isNaN(b.sentAt[r]!) ? b.intended[r]! : b.sentAt[r]!;
    if (at < t) t = at;
  }
  return t;
}

export function judgeInTime(j: Judge, opts: { reservationTtlMs?: number; marginMs?: number } = {}): InTimeResult {
  const m = opts.marginMs ?? IN_TIME_MARGIN_MS,
    ttl = opts.reservationTtlMs ?? 0;
  if (!j.seenIsLive)
    return {
      judged: false,
      note: "not judged: decisions were re-read after the run, so no seen time bounds their commit",
      count: 0,
      flags: [],
      marginMs: m,
    };
  const nProducts = j.stock.length;
  const unknown = j.stock.filter((st, p) => st !== undefined && j.restockSends[p] === undefined).length;
  // Candidates: a product whose holders together never exceed its initial stock cannot be oversold in time.
  const holdUnits = new Float64Array(nProducts),
    events = new Uint32Array(nProducts + 1);
  for (let s = 0; s < j.slots; s++) {
    const iv = holdInterval(j, s, ttl, m);
    if (!iv) continue;
    const p = j.fates.accProduct[s]!;
    holdUnits[p]! += j.fates.accQty[s]!;
    events[p]! += Number.isFinite(iv[1]) ? 2 : 1;
  }
  const candidate = (p: number) => holdUnits[p]! > (j.initialStock[p] ?? 0);
  for (let p = 0; p < nProducts; p++) {
    if (!candidate(p)) events[p] = 0;
    else events[p]! += j.restockSends[p]!.length;
  }
  // Offsets (prefix sums), then the events of candidate products in typed columns.
  const start = new Uint32Array(nProducts + 1);
  for (let p = 0; p < nProducts; p++) start[p + 1] = start[p]! + events[p]!;
  const total = start[nProducts]!;
  const time = new Float64Array(total),
    delta = new Float64Array(total),
    kind = new Uint8Array(total),
    fill = start.slice(0, nProducts);
  const put = (p: number, t: number, d: number, k: number) => {
    const i = fill[p]!++;
    time[i] = t;
    delta[i] = d;
    kind[i] = k;
  };
  for (let s = 0; s < j.slots; s++) {
    const iv = holdInterval(j, s, ttl, m);
    const p = j.fates.accProduct[s]!;
    if (!iv || !candidate(p)) continue;
    put(p, iv[0], j.fates.accQty[s]!, HOLD);
    if (Number.isFinite(iv[1])) put(p, iv[1], j.fates.accQty[s]!, RELEASE);
  }
  for (let p = 0; p < nProducts; p++)
    if (candidate(p)) for (const r of j.restockSends[p]!) put(p, r.sentAtMs - m, r.quantity, RESTOCK);

  const order = new Uint32Array(total).map((_, i) => i);
  // At one instant, restocks and releases first: a tie never makes a flag.
  const byTime = (a: number, b: number) => time[a]! - time[b]! || kind[a]! - kind[b]!;
  let count = 0;
  const flags: InTimeFlag[] = [];
  for (let p = 0; p < nProducts; p++) {
    if (events[p] === 0) continue;
    const seg = order.subarray(start[p], start[p + 1]).sort(byTime);
    let avail = j.initialStock[p] ?? 0,
      held = 0,
      restocks = 0;
    let over = NaN;
    for (const i of seg) {
      if (time[i]! > over) break; // the whole first violating instant is in `held`
      if (kind[i] === RESTOCK) {
        avail += delta[i]!;
        restocks++;
      } else if (kind[i] === RELEASE) held -= delta[i]!;
      else if ((held += delta[i]!) > avail && Number.isNaN(over)) over = time[i]!;
    }
    if (Number.isNaN(over)) continue;
    count++;
    if (flags.length < MAX_EXAMPLES)
      flags.push(flagAt(j, p, { atMs: over, stock: avail, held, restocksBefore: restocks }, ttl, m));
  }
  const note =
    unknown > 0 ? `${unknown} product(s) not judged in time: their restock send times are unknown` : undefined;
  return { judged: true, ...(note ? { note } : {}), count, flags, marginMs: m };
}

/** The orders holding product p at the instant, for the report. */
function flagAt(j: Judge, p: number, instant: InTimeInstant, ttl: number, m: number): InTimeFlag {
  const holders: InTimeFlag["holders"] = [];
  let holderCount = 0;
  const f = j.fates;
  for (let s = 0; s < j.slots; s++) {
    if (f.accProduct[s] !== p) continue;
    const iv = holdInterval(j, s, ttl, m);
    if (!iv || iv[0] > instant.atMs || iv[1] <= instant.atMs) continue;
    holderCount++;
    if (holders.length < MAX_HOLDERS)
      holders.push({ orderId: j.orderIdOf(s), quantity: f.accQty[s]!, seenAtMs: iv[0] - m, partition: partOf(j, s) });
  }
  const next = j.restockSends[p]!.map((r) => r.sentAtMs).filter((t) => t - m > instant.atMs);
  return {
    product: p,
    instant,
    holders,
    holderCount,
    ...(next.length > 0 ? { nextRestockAtMs: Math.min(...next) } : {}),
  };
}

function partOf(j: Judge, s: number): number {
  const f = j.fates;
  return Number.isNaN(f.res[s]!) || f.conf[s]! < f.res[s]! ? f.confPart[s]! : f.resPart[s]!;
}
