// Every relative link in the repository's markdown resolves to a file or folder inside the repository.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
// [text](target) and [text]: target; code spans are removed first (they show syntax, not links).
const INLINE = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const REFERENCE = /^\s*\[[^\]]+\]:\s+(\S+)/gm;

function markdownFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.md"], { cwd: ROOT });
  return out
    .toString()
    .split("\n")
    .filter((f) => f && !f.startsWith("node_modules/"));
}

/** Problems with the relative links of one markdown file (empty when all resolve inside the repo). */
export function brokenLinks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "");
  const targets = [...text.matchAll(INLINE), ...text.matchAll(REFERENCE)].map((m) => m[1]!);
  const problems: string[] = [];
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // URLs, mailto:, anchors
    const path = decodeURIComponent(target.split("#")[0]!);
    const abs = resolve(ROOT, dirname(file), path);
    const inside = relative(ROOT, abs);
    if (inside.startsWith("..") || resolve(ROOT, inside) !== abs)
      problems.push(`${file}: ${target} leaves the repository`);
    else if (!existsSync(abs)) problems.push(`${file}: ${target} does not exist`);
  }
  return problems;
}

describe("markdown links", () => {
  it("finds the repository's markdown files", () => {
    expect(markdownFiles()).toContain("docs/ARCHITECTURE.md");
  });

  it("every relative link resolves inside the repository", () => {
    expect(markdownFiles().flatMap(brokenLinks)).toEqual([]);
  });
});
