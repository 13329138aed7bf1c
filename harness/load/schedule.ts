// The open-loop clock: items fire at their intended time whatever the system under test does.
// Due items are handed over together (a batch); the caller must not block on the SUT.

export interface Scheduled {
  offsetMs: number;
}

export interface ScheduleOptions<T extends Scheduled> {
  items: readonly T[];
  /** Epoch ms of offset 0. */
  t0: number;
  /** Called with every item that is due, and the time it fired. Must not wait for acknowledgements. */
  fire: (due: T[], nowMs: number) => void;
  aborted?: () => boolean;
}

/** Runs the schedule; resolves once every item has fired (or it was aborted). Items must be sorted by offsetMs. */
export async function runSchedule<T extends Scheduled>(o: ScheduleOptions<T>): Promise<void> {
  const items = o.items;
  await runScheduleRange({
    count: items.length,
    offsetAt: (i) => items[i]!.offsetMs,
    t0: o.t0,
    aborted: o.aborted,
    fire: (from, to, nowMs) => o.fire(items.slice(from, to), nowMs),
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What the drivers read of an order stream: a plain array, or a compact table with the same two members. */
export interface OrderSource<T> {
  readonly length: number;
  at(i: number): T | undefined;
}

export interface RangeScheduleOptions {
  count: number;
  /** Intended offset (ms after t0) of item i; non-decreasing in i. */
  offsetAt: (i: number) => number;
  t0: number;
  /** Items [from, to) are due; nowMs is when they fired. Must not wait for acknowledgements. */
  fire: (from: number, to: number, nowMs: number) => void;
  aborted?: () => boolean;
}

/** At most this many items fire at once, so acknowledgements are handled between batches even when far behind. */
const MAX_FIRE = 4096;

/** The open-loop clock over item indices: no array of due items is built. */
export async function runScheduleRange(o: RangeScheduleOptions): Promise<void> {
  let i = 0;
  while (i < o.count) {
    if (o.aborted?.()) return;
    const now = Date.now();
    const from = i;
    while (i < o.count && i - from < MAX_FIRE && o.t0 + o.offsetAt(i) <= now) i++;
    if (i > from) o.fire(from, i, now);
    if (i >= o.count) break;
    const wait = o.t0 + o.offsetAt(i) - Date.now();
    await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
  }
}
