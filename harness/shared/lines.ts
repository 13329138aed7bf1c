// Lines of a large text stream, fast: one synchronous loop per chunk instead of readline's event and
// async-iterator round trip per line. The same lines as readline with crlfDelay Infinity: "\n", "\r\n"
// and a lone "\r" each end a line, and a last line without an end is a line if it is not empty.
import type { Readable } from "node:stream";

/** A decoded text stream (setEncoding / encoding "utf8"), line by line; `n` counts from 1. */
export async function eachLine(input: Readable, onLine: (text: string, n: number) => void): Promise<number> {
  let rest = "",
    n = 0,
    pendingCr = false;
  const emit = (text: string) => {
    if (text.indexOf("\r") < 0) {
      onLine(text, ++n);
      return;
    }
    // Rare (the writers never put "\r" in a line): each "\r" ends a line, "\r\n" is one end.
    const parts = text.split("\r");
    if (parts.at(-1) === "") parts.pop();
    for (const p of parts) onLine(p, ++n);
  };
  for await (const chunk of input) {
    const text = typeof chunk === "string" ? chunk : String(chunk);
    if (text.length === 0) continue;
    let start = 0;
    if (pendingCr) {
      // The previous chunk ended in "\r": it ended a line, and a "\n" right after it belongs to that end.
      pendingCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    let i = text.indexOf("\n", start);
    if (i < 0) {
      rest += start === 0 ? text : text.slice(start);
    } else {
      emit(rest + text.slice(start, i));
      rest = "";
      for (start = i + 1; (i = text.indexOf("\n", start)) >= 0; start = i + 1) emit(text.slice(start, i));
      rest = text.slice(start);
    }
    if (rest.endsWith("\r")) {
      emit(rest);
      rest = "";
      pendingCr = true;
    }
  }
  if (rest.length > 0) emit(rest);
  return n;
}
