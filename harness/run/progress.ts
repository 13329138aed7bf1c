// The progress line on stderr: one updating line on a terminal, a line every few seconds otherwise.
export class Progress {
  private last = "";
  private lastPrintMs = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** No progress line (log lines still print). */
    private readonly quiet = false,
    private readonly everyMs = 5_000,
  ) {}

  private get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** The current state; shown at once on a TTY, rate-limited otherwise. */
  update(text: string): void {
    if (this.quiet) return;
    this.last = text;
    const width = this.stream.columns ?? 120;
    if (this.tty) {
      this.stream.write(`\r\x1b[K${text.slice(0, Math.max(20, width - 1))}`);
      this.shown = true;
    } else if (Date.now() - this.lastPrintMs >= this.everyMs) {
      this.lastPrintMs = Date.now();
      this.stream.write(`${text}\n`);
    }
  }

  /** A permanent line (above the progress line on a TTY). */
  log(line: string): void {
    if (this.tty && this.shown) this.stream.write("\r\x1b[K");
    this.stream.write(`${line}\n`);
    if (this.tty && this.shown && this.last) this.stream.write(this.last.slice(0, (this.stream.columns ?? 120) - 1));
  }

  /** Clears the progress line. */
  done(): void {
    if (this.tty && this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
    this.last = "";
    this.lastPrintMs = 0;
  }
}
