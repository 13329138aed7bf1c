// Writes scenario.schema.json (for editors: "$schema": "./harness/scenario/scenario.schema.json").
// Run: npm run scenario-schema. A test checks the committed file is current.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { scenarioSchema } from "./schema.ts";

export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), "scenario.schema.json");

export function scenarioJsonSchema(): string {
  const schema = z.toJSONSchema(scenarioSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  schema.title = "oversell scenario";
  schema.description = "A load scenario for oversell (npm run bench -- --scenario <file>).";
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, scenarioJsonSchema());
  console.log(`wrote ${SCHEMA_FILE}`);
}
