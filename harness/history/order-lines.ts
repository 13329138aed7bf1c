// One SUT's order lines (sent / ack / send-error) kept as numbers while history.ndjson is read for its
// milestones, so `check` reads the file once instead of once more per SUT: a million orders are two million
// lines, and parsing them was most of reading the history. Five float64 per line (40 bytes), in file order;
// applying them to a book is what readSutOrders does with the lines themselves.
import type { AckEvent, SendErrorEvent, SentEvent } from "./events.ts";

const SENT = 0,
  ACK = 1,
  SEND_ERROR = 2;
const WIDTH = 5;
/** Offsets written as plain non-negative integers (all of them, in practice) are kept as numbers. */
const PLAIN_OFFSET = /^(0|[1-9]\d{0,14})$/;

/** What an order line tells a book (see applyOrderLine in read.ts). */
export type OrderLine =
  | Pick<SentEvent, "type" | "seq" | "intendedAtMs" | "sentAtMs">
  | Pick<AckEvent, "type" | "seq" | "ackAtMs" | "partition" | "offset">
  | Pick<SendErrorEvent, "type" | "seq" | "status">;

export class OrderLines {
  private data = new Float64Array(WIDTH * 1024);
  private n = 0;
  /** Offsets that are not plain integers, by line. */
  private readonly otherOffsets = new Map<number, string>();

  get length(): number {
    return this.n;
  }

  add(e: SentEvent | AckEvent | SendErrorEvent): void {
    if ((this.n + 1) * WIDTH > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const d = this.data,
      at = this.n * WIDTH;
    d[at + 1] = e.seq;
    if (e.type === "sent") {
      d[at] = SENT;
      d[at + 2] = e.intendedAtMs;
      d[at + 3] = e.sentAtMs;
    } else if (e.type === "ack") {
      d[at] = ACK;
      d[at + 2] = e.ackAtMs;
      d[at + 3] = e.partition ?? NaN;
      if (e.offset !== undefined && PLAIN_OFFSET.test(e.offset)) d[at + 4] = Number(e.offset);
      else {
        d[at + 4] = NaN;
        if (e.offset !== undefined) this.otherOffsets.set(this.n, e.offset);
      }
    } else {
      d[at] = SEND_ERROR;
      d[at + 2] = e.status === "failed" ? 0 : 1;
    }
    this.n++;
  }

  /** Each line again, in file order, as the fields a book needs. */
  forEach(f: (line: OrderLine) => void): void {
    const d = this.data;
    for (let i = 0; i < this.n; i++) {
      const at = i * WIDTH,
        seq = d[at + 1]!;
      if (d[at] === SENT) f({ type: "sent", seq, intendedAtMs: d[at + 2]!, sentAtMs: d[at + 3]! });
      else if (d[at] === ACK) {
        const partition = d[at + 3]!,
          offset = d[at + 4]!;
        f({
          type: "ack",
          seq,
          ackAtMs: d[at + 2]!,
          partition: Number.isNaN(partition) ? undefined : partition,
          offset: Number.isNaN(offset) ? this.otherOffsets.get(i) : String(offset),
        });
      } else f({ type: "send-error", seq, status: d[at + 2] === 0 ? "failed" : "unknown" });
    }
  }
}
