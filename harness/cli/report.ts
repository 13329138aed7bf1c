// npm run report -- reports/<run> [reports/<run2> ...] [--out FILE]
// One run: regenerate its report.html from result.json. Several: a comparison page.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { Command } from "commander";
import { renderComparison, renderReport, writeHtmlReport } from "../report/html.ts";
import { type RunResult, resultSchema } from "../report/result-schema.ts";
import { formatIssues, InputError } from "../shared/zod-errors.ts";

/** A run folder (holding result.json) or a result.json file itself. */
export function loadRunResult(target: string): { result: RunResult; dir: string } {
  const abs = resolve(target);
  if (!existsSync(abs)) throw new InputError(`${target} does not exist`);
  const file = statSync(abs).isDirectory() ? join(abs, "result.json") : abs;
  if (!existsSync(file)) throw new InputError(`${target} has no result.json (is it a run folder, e.g. reports/<run>?)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = resultSchema.safeParse(raw);
  if (!r.success) throw new InputError(`${file} is not a valid result.json:\n${formatIssues(r.error)}`);
  return { result: r.data, dir: dirname(file) };
}

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "");
}

export function runReportCli(argv: string[]): string {
  const program = new Command("report")
    .description("HTML report of a run, or a comparison page of several runs")
    .argument("<runs...>", "run folders (reports/<run>) or result.json files")
    .option(
      "--out <file>",
      "where to write the page (default: <run>/report.html, or comparison-<timestamp>.html next to the first run)",
    )
    .showHelpAfterError()
    .exitOverride();
  program.parse(argv, { from: "user" });
  const targets = program.args;
  const out = program.opts<{ out?: string }>().out;
  const runs = targets.map(loadRunResult);
  if (runs.length === 1) {
    const { result, dir } = runs[0]!;
    if (!out) return writeHtmlReport(result, dir);
    const file = resolve(out);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, renderReport(result));
    return file;
  }
  const file = out ? resolve(out) : join(dirname(runs[0]!.dir), `comparison-${stamp(new Date())}.html`);
  mkdirSync(dirname(file), { recursive: true });
  // Links to each run's own report, relative to the comparison page, when it exists.
  const links = runs.map((r) =>
    existsSync(join(r.dir, "report.html"))
      ? relative(dirname(file), join(r.dir, "report.html")).split(/[\\/]/).map(encodeURIComponent).join("/")
      : undefined,
  );
  writeFileSync(
    file,
    renderComparison(
      runs.map((r) => r.result),
      { links },
    ),
  );
  return file;
}

const isMain =
  process.argv[1] !== undefined &&
  basename(process.argv[1]) === "report.ts" &&
  resolve(process.argv[1]).includes(join("harness", "cli"));
if (isMain) {
  try {
    console.log(runReportCli(process.argv.slice(2)));
  } catch (e) {
    const err = e as Error & { exitCode?: number; code?: string };
    if (err.code?.startsWith("commander."))
      process.exit(err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
    console.error(`[report] ${err.message}`);
    process.exit(err instanceof InputError ? err.exitCode : 2);
  }
}
