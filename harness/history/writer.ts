// history.ndjson: an append-only record of what the harness did and saw, written as it happens so a
// crashed or interrupted run can still be judged. Order lines are buffered and flushed in batches
// (cheap); milestones are flushed at once. Synchronous appends, so an exit handler can flush.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HistoryEvent } from "./events.ts";

type Body<E> = E extends HistoryEvent ? Omit<E, "t"> & { t?: number } : never;

export class HistoryWriter {
  private buffer: string[] = [];
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly onExit = () => this.flush();

  constructor(
    readonly file: string,
    private readonly opts: { flushEveryMs?: number; maxBufferBytes?: number } = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, "");
    process.on("exit", this.onExit);
  }

  /** Buffered: order sent/ack/error lines. */
  write(event: Body<HistoryEvent>): void {
    if (this.closed) return;
    const line = `${JSON.stringify({ t: Date.now(), ...event })}\n`;
    this.buffer.push(line);
    this.bytes += line.length;
    if (this.bytes >= (this.opts.maxBufferBytes ?? 256 * 1024)) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.flushEveryMs ?? 250);
      this.timer.unref();
    }
  }

  /** Written and flushed at once: milestones (run/sut start and end, faults). */
  mark(event: Body<HistoryEvent>): void {
    this.write(event);
    this.flush();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const text = this.buffer.join("");
    this.buffer = [];
    this.bytes = 0;
    appendFileSync(this.file, text);
  }

  close(): void {
    this.flush();
    this.closed = true;
    process.off("exit", this.onExit);
  }
}
