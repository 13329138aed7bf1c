// A SUT's settings: declared once in its sut.json (type, default, range or values, meaning), read
// by the SUT from OVERSELL_SETTING_<NAME> and checked against that declaration, and validated by the
// harness the same way before it starts anything. Names are lower_snake (`--set saga.reservation_ttl_ms=3000`).
import { readFileSync } from "node:fs";
import { z } from "zod";

export const SETTING_ENV_PREFIX = "OVERSELL_SETTING_";
export const SETTING_NAME = /^[a-z][a-z0-9_]*$/;

export const settingDeclarationSchema = z
  .object({
    type: z.enum(["integer", "number", "enum"]),
    /** Absent: the SUT derives the value itself (its README says how). */
    default: z.union([z.number(), z.string()]).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    /** For type "enum": the accepted values. */
    values: z.array(z.string().min(1)).min(1).optional(),
    meaning: z.string().min(1),
  })
  .superRefine((d, ctx) => {
    if ((d.type === "enum") !== Boolean(d.values)) {
      ctx.addIssue({ code: "custom", message: 'give "values" exactly when type is "enum"' });
    }
    if (d.default !== undefined) {
      const problem = settingProblem(d, String(d.default));
      if (problem) ctx.addIssue({ code: "custom", path: ["default"], message: `the default ${problem}` });
    }
  });
export type SettingDeclaration = z.infer<typeof settingDeclarationSchema>;

export const settingsDeclarationSchema = z.record(
  z.string().regex(SETTING_NAME, "a setting name is lower_snake_case"),
  settingDeclarationSchema,
);
export type SettingsDeclaration = z.infer<typeof settingsDeclarationSchema>;
export type SettingValue = number | string;

export function settingEnvName(name: string): string {
  return `${SETTING_ENV_PREFIX}${name.toUpperCase()}`;
}

/** "an integer in [1, 60000]", "one of on, off": what a value must be. */
export function describeRange(d: SettingDeclaration): string {
  if (d.type === "enum") return `one of ${d.values!.join(", ")}`;
  const what = d.type === "integer" ? "an integer" : "a number";
  if (d.min !== undefined && d.max !== undefined) return `${what} in [${d.min}, ${d.max}]`;
  if (d.min !== undefined) return `${what} >= ${d.min}`;
  if (d.max !== undefined) return `${what} <= ${d.max}`;
  return what;
}

/** Why `raw` is not a valid value (undefined when it is). */
export function settingProblem(d: SettingDeclaration, raw: string): string | undefined {
  const ok =
    d.type === "enum"
      ? d.values!.includes(raw)
      : raw.trim() !== "" &&
        Number.isFinite(Number(raw)) &&
        (d.type === "number" || Number.isInteger(Number(raw))) &&
        (d.min === undefined || Number(raw) >= d.min) &&
        (d.max === undefined || Number(raw) <= d.max);
  return ok ? undefined : `"${raw}" is not ${describeRange(d)}`;
}

export function parseSettingValue(d: SettingDeclaration, raw: string): SettingValue {
  return d.type === "enum" ? raw : Number(raw);
}

export class SettingError extends Error {}

/** Declared settings of one SUT with values from the environment (or defaults), all checked. */
export class Settings {
  private constructor(
    private readonly values: ReadonlyMap<string, SettingValue | undefined>,
    readonly declared: SettingsDeclaration,
  ) {}

  /** Throws SettingError naming the variable, the value and the range; unknown OVERSELL_SETTING_* too. */
  static fromEnv(declared: SettingsDeclaration, env: NodeJS.ProcessEnv = process.env): Settings {
    const values = new Map<string, SettingValue | undefined>();
    for (const [name, d] of Object.entries(declared)) {
      const raw = env[settingEnvName(name)];
      if (raw === undefined || raw === "") {
        values.set(name, d.default);
        continue;
      }
      const problem = settingProblem(d, raw);
      if (problem) throw new SettingError(`${settingEnvName(name)}=${problem} (${name}: ${d.meaning})`);
      values.set(name, parseSettingValue(d, raw));
    }
    const unknown = Object.keys(env).filter(
      (k) => k.startsWith(SETTING_ENV_PREFIX) && !values.has(k.slice(17).toLowerCase()),
    );
    if (unknown.length) {
      throw new SettingError(
        `${unknown.join(", ")}: not declared in sut.json (declared: ${Object.keys(declared).join(", ")})`,
      );
    }
    return new Settings(values, declared);
  }

  number(name: string): number {
    const v = this.optionalNumber(name);
    if (v === undefined) throw new SettingError(`setting ${name} has no default and is not set`);
    return v;
  }

  optionalNumber(name: string): number | undefined {
    const v = this.value(name);
    if (v !== undefined && typeof v !== "number") throw new SettingError(`setting ${name} is not a number`);
    return v;
  }

  choice(name: string): string {
    const v = this.value(name);
    if (typeof v !== "string") throw new SettingError(`setting ${name} is not an enum with a value`);
    return v;
  }

  toJSON(): Record<string, SettingValue | undefined> {
    return Object.fromEntries(this.values);
  }

  private value(name: string): SettingValue | undefined {
    if (!this.values.has(name)) throw new SettingError(`setting ${name} is not declared in sut.json`);
    return this.values.get(name);
  }
}

/** The `settings` of a sut.json (a SUT passes new URL("./sut.json", import.meta.url)). */
export function readSettingsDeclaration(manifestFile: URL | string): SettingsDeclaration {
  const raw = JSON.parse(readFileSync(manifestFile, "utf8")) as { settings?: unknown };
  return settingsDeclarationSchema.parse(raw.settings ?? {});
}

/**
 * For a SUT's main: its settings from the environment, checked against its sut.json. A bad value
 * ends the process (exit 2) with one line naming the variable, the value and the accepted range.
 */
export function settingsOrExit(manifestFile: URL | string, env: NodeJS.ProcessEnv = process.env): Settings {
  try {
    return Settings.fromEnv(readSettingsDeclaration(manifestFile), env);
  } catch (e) {
    process.stderr.write(`invalid setting: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
