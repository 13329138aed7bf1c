// A plain-text table for terminal summaries: the first column left-aligned (names), the others
// right-aligned (numbers), two spaces between columns, and a dashed rule under the header.

/** The header line, the rule and one line per row; every column as wide as its widest cell. */
export function textTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

/** A titled block of lines and a blank line after it; nothing when there are no lines. */
export function textSection(title: string, lines: string[]): string[] {
  return lines.length ? [title, ...lines, ""] : [];
}
