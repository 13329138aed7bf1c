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
  let i = 0;
  const items = o.items;
  while (i < items.length) {
    if (o.aborted?.()) return;
    const now = Date.now();
    const due: T[] = [];
    while (i < items.length && o.t0 + items[i]!.offsetMs <= now) due.push(items[i++]!);
    if (due.length > 0) o.fire(due, now);
    if (i >= items.length) break;
    const wait = o.t0 + items[i]!.offsetMs - Date.now();
    // Short sleeps keep the clock responsive; setImmediate lets acknowledgements be handled between batches.
    await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
