// sut.json: how the harness starts a system under test, in any language.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { formatIssues, InputError } from "../shared/zod-errors.ts";

import { INVARIANTS, type Invariant } from "../checker/types.ts";

export { INVARIANTS, type Invariant };

export const manifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, "lower-case letters, digits and '-'"),
  description: z.string().min(1),
  /** argv for instance i; run in the SUT's folder. `{instance}` is replaced by i. */
  command: z.array(z.string().min(1)).min(1),
  instances: z.number().int().min(1).max(16).default(2),
  confirms: z.boolean(),
  claims: z.array(z.enum(INVARIANTS)),
  /** Violations the checker must catch (naive: ["oversell"]); non-empty means the expected verdict is "fail". */
  expectedViolations: z.array(z.enum(INVARIANTS)).default([]),
  /** Extra environment for every instance (OVERSELL_SETTING_* are the SUT's settings). */
  env: z.record(z.string(), z.string()).default({}),
  /** Seconds an instance may take to print the ready line. */
  startTimeoutSec: z.number().positive().default(60),
  /** A command run once (in the SUT folder) before instances start, e.g. a build. */
  build: z.array(z.string().min(1)).optional(),
  /** For confirming SUTs: how long a reservation may stay unconfirmed (stuck invariant). */
  reservationTtlMs: z.number().int().positive().optional(),
});
export type Manifest = z.infer<typeof manifestSchema> & { dir: string };

export const SUT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "systems-under-test");

export function loadManifest(nameOrDir: string): Manifest {
  const dir = existsSync(join(nameOrDir, "sut.json")) ? resolve(nameOrDir) : join(SUT_ROOT, nameOrDir);
  const file = join(dir, "sut.json");
  if (!existsSync(file)) {
    throw new InputError(`no SUT "${nameOrDir}": ${file} does not exist. Known: ${listSuts().join(", ")}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) throw new InputError(`${file} is not a valid SUT manifest:\n${formatIssues(r.error)}`);
  return { ...r.data, dir };
}

export function listSuts(): string[] {
  if (!existsSync(SUT_ROOT)) return [];
  return readdirSync(SUT_ROOT).filter((d) => existsSync(join(SUT_ROOT, d, "sut.json"))).sort();
}
