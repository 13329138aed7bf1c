// Aborted decisions without keeping the topic: the read_uncommitted reader's records are held only until
// the read_committed reader passes their offset. Each partition arrives in offset order on both readers,
// so a merge tells them apart: a record both saw was committed; one only read_uncommitted saw, at an offset
// the committed reader has passed, was aborted. Memory is bounded by how far the two readers are apart.
import type { Decision } from "../../systems-under-test/contract/events.ts";
import { decodeDecision } from "./decode.ts";

interface Pending {
  offset: number;
  value: string | null;
}

/** A FIFO with O(1) shift (Array.prototype.shift is O(n): quadratic when one reader is far ahead). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): T | undefined {
    return this.items[this.head];
  }

  last(): T | undefined {
    return this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
  }

  push(x: T): void {
    this.items.push(x);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++];
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** A run of consecutive committed offsets, from..to inclusive. */
interface Run {
  from: number;
  to: number;
}

class PartitionMerge {
  /** read_uncommitted records beyond the committed reader's position. */
  readonly uncommitted = new Fifo<Pending>();
  /**
   * Committed offsets the read_uncommitted reader has not reached yet, as runs: small even when that reader
   * starts late (it is only started once the topic shows transactional records, see collect.ts).
   */
  readonly committedAhead = new Fifo<Run>();
  committedPos = -1;
  uncommittedPos = -1;

  addCommittedAhead(offset: number): void {
    const last = this.committedAhead.last();
    if (last && last.to === offset - 1) last.to = offset;
    else this.committedAhead.push({ from: offset, to: offset });
  }

  /** Whether the read_uncommitted record at `offset` is one the committed reader had (then it is consumed). */
  takeCommittedAhead(offset: number): boolean {
    let run: Run | undefined;
    while ((run = this.committedAhead.first()) && run.to < offset) this.committedAhead.shift();
    if (!run || run.from > offset) return false;
    run.from = offset + 1;
    if (run.from > run.to) this.committedAhead.shift();
    return true;
  }
}

export class AbortedTracker {
  private readonly parts = new Map<number, PartitionMerge>();
  readonly aborted: Decision[] = [];

  private part(p: number): PartitionMerge {
    let m = this.parts.get(p);
    if (!m) this.parts.set(p, (m = new PartitionMerge()));
    return m;
  }

  /** A committed record (after de-duplication). */
  committed(p: number, offset: number): void {
    const m = this.part(p);
    this.settle(m, offset - 1);
    if (offset > m.committedPos) m.committedPos = offset;
    if (m.uncommitted.length > 0 && m.uncommitted.first()!.offset === offset) m.uncommitted.shift();
    else if (offset > m.uncommittedPos) m.addCommittedAhead(offset);
  }

  /** The committed reader has passed lastOffset: anything read_uncommitted up to it and not committed was aborted. */
  committedPassed(p: number, lastOffset: number): void {
    const m = this.part(p);
    this.settle(m, lastOffset);
    if (lastOffset > m.committedPos) m.committedPos = lastOffset;
  }

  /** A read_uncommitted record (re-reads after a restart are dropped here). */
  uncommittedRecord(p: number, offset: number, value: string | null): void {
    const m = this.part(p);
    if (offset <= m.uncommittedPos) return;
    m.uncommittedPos = offset;
    if (m.takeCommittedAhead(offset)) return;
    if (offset <= m.committedPos) this.abort(value);
    else m.uncommitted.push({ offset, value });
  }

  private settle(m: PartitionMerge, upTo: number): void {
    while (m.uncommitted.length > 0 && m.uncommitted.first()!.offset <= upTo) this.abort(m.uncommitted.shift()!.value);
  }

  private abort(value: string | null): void {
    const r = decodeDecision(value);
    if (r.ok) this.aborted.push(r.value);
  }
}
