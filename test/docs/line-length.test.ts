// Issue 18: no code line over 120 characters, with no exceptions. Prettier keeps code to its printWidth but
// leaves strings, template literals, comments and Java alone; this catches those. Markdown and JSON data are not
// code. The report's long markup is split into pieces joined without a newline, so the page stays the same.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MAX = 120;
const ROOTS = ["harness", "systems-under-test", "test", "scripts", "bin"];
const CODE = /\.(ts|mts|js|mjs|cjs|java)$/;
const SKIP_DIRS = new Set(["node_modules", "target", "reports"]);
const TOP_FILES = ["eslint.config.js", "vitest.config.ts"];

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : codeFiles(path);
    return CODE.test(e.name) ? [path] : [];
  });
}

describe("line length", () => {
  it(`no code line is over ${MAX} characters`, () => {
    const files = [...ROOTS.map((r) => join(ROOT, r)).flatMap(codeFiles), ...TOP_FILES.map((f) => join(ROOT, f))];
    const long = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        // Characters, not UTF-16 units or bytes: "→" and "·" count as one.
        .map((line, i) => ({ at: `${relative(ROOT, file)}:${i + 1}`, length: [...line].length }))
        .filter((l) => l.length > MAX)
        .map((l) => `${l.at} (${l.length})`),
    );
    expect(files.length).toBeGreaterThan(50);
    // Java SUT sources are checked as well (Prettier does not format them).
    expect(files.some((f) => f.endsWith(".java"))).toBe(true);
    expect(long, `lines over ${MAX} characters`).toEqual([]);
  });
});
