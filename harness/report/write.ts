// Writes a run's outputs: result.json (validated against the schema first), junit.xml, report.html.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatIssues } from "../shared/zod-errors.ts";
import { writeHtmlReport } from "./html.ts";
import { renderJunit } from "./junit.ts";
import { resultSchema, type RunResult } from "./result-schema.ts";

export class ResultSchemaError extends Error {}

export function validateResult(result: unknown): RunResult {
  const r = resultSchema.safeParse(result);
  if (!r.success)
    throw new ResultSchemaError(`result does not match result-schema.ts (a harness bug):\n${formatIssues(r.error)}`);
  return r.data;
}

export interface WrittenFiles {
  result: string;
  junit: string;
  html?: string;
  htmlError?: string;
}

/** `resultName` lets `check` write its verdict next to the original result.json. */
export function writeRunOutputs(result: RunResult, runDir: string, resultName = "result.json"): WrittenFiles {
  const valid = validateResult(result);
  mkdirSync(runDir, { recursive: true });
  const resultFile = join(runDir, resultName);
  writeFileSync(resultFile, `${JSON.stringify(valid, null, 2)}\n`);
  const junit = join(runDir, resultName === "result.json" ? "junit.xml" : resultName.replace(/\.json$/, ".junit.xml"));
  writeFileSync(junit, renderJunit(valid));
  const out: WrittenFiles = { result: resultFile, junit };
  if (resultName === "result.json") {
    try {
      out.html = writeHtmlReport(valid, runDir);
    } catch (e) {
      // The report is a view; the verdict stands without it.
      out.htmlError = (e as Error).message;
    }
  }
  return out;
}
