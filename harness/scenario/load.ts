// Reading a scenario: a built-in name, or a JSON/YAML file. All problems are reported at once.
import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { formatIssues, InputError } from "../shared/zod-errors.ts";
import { BUILTIN_SCENARIOS } from "./builtins.ts";
import { scenarioSchema, type Scenario } from "./schema.ts";

/**
 * zod reports a union failure as one "invalid input"; when the value had the shape of one member
 * (e.g. an object for a number-or-distribution field), that member's own issues are the useful ones.
 */
function expandUnions(issues: z.core.$ZodIssue[], base: PropertyKey[] = []): z.core.$ZodIssue[] {
  const out: z.core.$ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === "invalid_union" && "errors" in issue && Array.isArray(issue.errors) && issue.errors.length > 0) {
      const shaped = issue.errors.filter(
        (branch) => !(branch.length === 1 && branch[0]!.code === "invalid_type" && branch[0].path.length === 0),
      );
      if (shaped.length === 1) {
        out.push(...expandUnions(shaped[0]!, path));
        continue;
      }
    }
    out.push({ ...issue, path });
  }
  return out;
}

export function validateScenario(raw: unknown, source = "scenario"): Scenario {
  const r = scenarioSchema.safeParse(raw);
  if (r.success) return r.data;
  const err = new z.ZodError(expandUnions(r.error.issues));
  throw new InputError(`${source} is not a valid scenario:\n${formatIssues(err)}`);
}

export function loadScenario(nameOrFile: string): Scenario {
  const builtin = BUILTIN_SCENARIOS[nameOrFile];
  if (builtin) return validateScenario(builtin, `built-in scenario ${nameOrFile}`);
  if (!existsSync(nameOrFile)) {
    throw new InputError(
      `no scenario "${nameOrFile}": not a built-in (${Object.keys(BUILTIN_SCENARIOS).join(", ")}) and no such file`,
    );
  }
  const text = readFileSync(nameOrFile, "utf8");
  let raw: unknown;
  try {
    raw = [".yaml", ".yml"].includes(extname(nameOrFile).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new InputError(`${nameOrFile} could not be read: ${(e as Error).message}`);
  }
  return validateScenario(raw, nameOrFile);
}
