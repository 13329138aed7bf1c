// Latency, throughput and the per-second series of one judged run, from the book and the fates.
// Histograms take each value as it is read; the per-second percentiles are exact (nearest rank) over
// one reusable array, sorted bucket by bucket.
import type { Evaluation } from "./evaluation.ts";
import type { Judge } from "./judge.ts";
import { LatencyRecorder } from "./latency.ts";
import { nearestRank } from "./latency.ts";
import { MAX_SERIES_BUCKETS, STATUS_CODE } from "./rules.ts";

type Stats = Pick<Evaluation, "latencyUs" | "throughput" | "series" | "seriesStartMs" | "seriesBucketMs">;

/** Spans shorter than a second count as one: a burst is reported as orders in its first second. */
const perSec = (n: number, spanMs: number) => (n === 0 ? 0 : n / (Math.max(spanMs, 1000) / 1000));

interface Buckets {
  t0: number;
  /** Bucket width: 1 s, finer for a short run (bucketMsFor). */
  ms: number;
  offered: Uint32Array;
  acked: Uint32Array;
  decided: Uint32Array;
  /** Orders with a decision latency, by intended second. */
  latN: Uint32Array;
  last: number;
}

function bucketIndex(b: Buckets, t: number): number {
  const i = Math.floor((t - b.t0) / b.ms);
  if (!Number.isFinite(i) || i < 0 || i >= MAX_SERIES_BUCKETS) return -1;
  if (i > b.last) b.last = i;
  return i;
}

/** First intended send of the offered (non-retry) rows, else of all rows, and the last offered. */
function intendedSpan(j: Judge): { t0: number; lastIntended: number; offered: number } {
  const book = j.book;
  let t0 = Infinity,
    last = -Infinity,
    any = Infinity,
    offered = 0;
  for (let i = 0; i < book.size; i++) {
    const t = book.intended[i]!;
    if (t < any) any = t;
    if (book.duplicateSend(i)) continue;
    offered++;
    if (t < t0) t0 = t;
    if (t > last) last = t;
  }
  if (offered === 0) t0 = any;
  if (book.size === 0) t0 = 0;
  return { t0, lastIntended: offered > 0 ? last : t0, offered };
}

/**
 * A run whose activity fits in two seconds gets 10 ms buckets, so a 5 ms burst decided within half a second is
 * still a curve, not one point; anything longer keeps 1 s buckets.
 */
export function bucketMsFor(spanMs: number): number {
  return spanMs < 2000 ? 10 : 1000;
}

/** The last moment anything happened (intended send, ack, decision), for the bucket width. */
function lastEventMs(j: Judge, lastIntended: number): number {
  let last = lastIntended;
  const { term } = j.fates,
    { ackAt } = j.book;
  for (let i = 0; i < term.length; i++) if (term[i]! > last) last = term[i]!;
  for (let i = 0; i < ackAt.length; i++) if (ackAt[i]! > last) last = ackAt[i]!;
  return last;
}

/**
 * The send delay of every order (it measures the harness); the ack latency of the measured ones. Returns how many
 * orders were offered from `from` on.
 */
function sendSide(j: Judge, b: Buckets, from: number, sendDelay: LatencyRecorder, ack: LatencyRecorder): number {
  const book = j.book;
  let offered = 0;
  for (let i = 0; i < book.size; i++) {
    const sent = book.sentAt[i]!,
      acked = book.ackAt[i]!;
    if (!Number.isNaN(sent)) sendDelay.recordMs(sent - book.intended[i]!);
    if (!Number.isNaN(sent) && !Number.isNaN(acked) && book.intended[i]! >= from) ack.recordMs(acked - sent);
    if (book.duplicateSend(i)) continue;
    if (book.intended[i]! >= from) offered++;
    const k = bucketIndex(b, book.intended[i]!);
    if (k >= 0) b.offered[k]!++;
  }
  return offered;
}

/**
 * warmupMs: orders intended before t0 + warmupMs count in the series but not in the latency percentiles or the
 * throughput figures (the scenario's warmupMs).
 */
export function statistics(j: Judge, warmupMs = 0): Stats {
  const book = j.book,
    f = j.fates;
  const decision = new LatencyRecorder(),
    reserve = new LatencyRecorder();
  const ack = new LatencyRecorder(),
    sendDelay = new LatencyRecorder();
  const { t0, lastIntended } = intendedSpan(j);
  const from = t0 + warmupMs;
  const n = MAX_SERIES_BUCKETS;
  const b: Buckets = {
    t0,
    ms: bucketMsFor(lastEventMs(j, lastIntended) - t0),
    offered: new Uint32Array(n),
    acked: new Uint32Array(n),
    decided: new Uint32Array(n),
    latN: new Uint32Array(n),
    last: -1,
  };
  const offered = sendSide(j, b, from, sendDelay, ack);

  let acked = 0,
    lastAck = from,
    decided = 0,
    firstDecision = Infinity,
    lastDecision = from;
  // Latency per order, by the second it was intended in; placed into `sorted` by a counting sort afterwards.
  const lat = new Float64Array(book.size),
    latBucket = new Int32Array(book.size).fill(-1);
  for (let v = 0; v < book.size; v++) {
    if (book.view[v] !== v) continue;
    const s = book.summary(v);
    const measured = s.intended >= from;
    if (s.status === STATUS_CODE.acked) {
      if (measured) acked++;
      if (!Number.isNaN(s.firstAck)) {
        if (measured) lastAck = Math.max(lastAck, s.firstAck);
        const k = bucketIndex(b, s.firstAck);
        if (k >= 0) b.acked[k]!++;
      }
    }
    if (!s.sent || !(f.flags[v]! & 1)) continue;
    if (j.hasReserved(v) && measured) reserve.recordMs(f.res[v]! - s.intended);
    if (!j.hasTerminal(v)) continue;
    const dk = bucketIndex(b, f.term[v]!);
    if (dk >= 0) b.decided[dk]!++;
    const ms = f.term[v]! - s.intended;
    if (measured) {
      decided++;
      decision.recordMs(ms);
      lastDecision = Math.max(lastDecision, f.term[v]!);
      firstDecision = Math.min(firstDecision, f.term[v]!);
    }
    const ik = bucketIndex(b, s.intended);
    if (ik >= 0) {
      b.latN[ik]!++;
      lat[v] = Math.max(0, Math.round(ms * 1000));
      latBucket[v] = ik;
    }
  }

  const latencyUs: Evaluation["latencyUs"] = {
    decision: decision.summary(true),
    ack: ack.summary(),
    sendDelay: sendDelay.summary(),
  };
  if (j.confirms) latencyUs.reserve = reserve.summary();
  return {
    latencyUs,
    throughput: {
      offeredPerSec: perSec(offered, lastIntended - from),
      ackedPerSec: perSec(acked, lastAck - from),
      decidedPerSec: perSec(decided, lastDecision - from),
      decisionPacePerSec: perSec(decided, lastDecision - firstDecision),
    },
    series: series(b, lat, latBucket),
    seriesBucketMs: b.ms,
    ...(book.size > 0 ? { seriesStartMs: t0 } : {}),
  };
}

function series(b: Buckets, lat: Float64Array, latBucket: Int32Array): Evaluation["series"] {
  const start = new Uint32Array(b.last + 2);
  for (let i = 0; i <= b.last; i++) start[i + 1] = start[i]! + b.latN[i]!;
  const sorted = new Float64Array(start[b.last + 1] ?? 0);
  const fill = start.slice();
  for (let v = 0; v < latBucket.length; v++) {
    const k = latBucket[v]!;
    if (k >= 0) sorted[fill[k]!++] = lat[v]!;
  }
  const out: Evaluation["series"] = [];
  for (let i = 0; i <= b.last; i++) {
    const row: Evaluation["series"][number] = {
      tSec: (i * b.ms) / 1000,
      offered: b.offered[i]!,
      acked: b.acked[i]!,
      decided: b.decided[i]!,
    };
    if (b.latN[i]! > 0) {
      const s = sorted.subarray(start[i], start[i + 1]).sort();
      row.p50Us = nearestRank(s, 50);
      row.p99Us = nearestRank(s, 99);
      row.maxUs = s[s.length - 1]!;
    }
    out.push(row);
  }
  return out;
}
