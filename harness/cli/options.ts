// Flags shared by bench, check and clean: the Kafka connection of an external cluster (TLS/SASL),
// and turning commander's errors into one line plus usage, exit 2.
import { CommanderError, type Command } from "commander";
import { z } from "zod";
import { connectionSchema, ENV, SASL_MECHANISMS, type Connection } from "../kafka/connection.ts";
import { InputError } from "../shared/zod-errors.ts";
import { NAMESPACE_PATTERN } from "../../systems-under-test/contract/topics.ts";

/** zod for the flag values several commands take (commander hands every value over as a string). */
export const FLAG = {
  seed: z
    .string()
    .regex(/^\d{1,15}$/, "a non-negative integer")
    .transform(Number)
    .optional(),
  brokers: z
    .enum(["1", "3"], { error: "1 or 3" })
    .transform((v) => Number(v) as 1 | 3)
    .optional(),
  kafkaVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, "a version like 4.1.1")
    .optional(),
  instances: z
    .string()
    .regex(/^([1-9]|1[0-6])$/, "1 to 16")
    .transform(Number)
    .optional(),
  set: z.array(z.string().regex(/^[a-z0-9-]+\.[A-Za-z0-9_.-]+=.*$/, "sut.setting=value")),
  port: z
    .string()
    .regex(/^\d{1,5}$/, "a port number")
    .transform(Number)
    .refine((p) => p <= 65535, "at most 65535")
    .optional(),
  ns: z.string().regex(NAMESPACE_PATTERN, "letters, digits, '.', '_' and '-' (at most 180)"),
};

/** A flag problem found after parsing (a conflict, a missing partner): one line and the usage, exit 2. */
export class FlagError extends InputError {}

/** A flag whose value the SUT's declaration rejects: one line plus usage, like any bad flag. */
export function asFlagError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) throw new FlagError(e.message);
    throw e;
  }
}

export interface SecurityFlags {
  ssl?: boolean;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  sslInsecure?: boolean;
  saslMechanism?: string;
  saslUsername?: string;
}

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option("--bootstrap <h:p,...>", "an existing cluster (comma-separated host:port)")
    .option("--ssl", "TLS to the brokers")
    .option("--ssl-ca <file>", "CA certificate (PEM) for TLS")
    .option("--ssl-cert <file>", "client certificate (PEM) for mutual TLS")
    .option("--ssl-key <file>", "client key (PEM) for mutual TLS")
    .option("--ssl-insecure", "do not verify the broker certificate")
    .option("--sasl-mechanism <m>", `SASL: ${SASL_MECHANISMS.join(", ")} (password from ${ENV.saslPassword})`)
    .option("--sasl-username <user>", "SASL user name");
}

function oneLine(issues: z.core.$ZodIssue[]): string {
  // Flag names as typed (--run-id, not --runId).
  const flag = (p: PropertyKey[]) => p.map((x) => String(x).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(".");
  return issues.map((i) => `${i.path.length ? `--${flag(i.path)}: ` : ""}${i.message}`).join("; ");
}

/**
 * The connection to an external cluster from flags (undefined without --bootstrap). The password only comes from the
 * environment.
 */
export function connectionFromFlags(
  o: SecurityFlags & { bootstrap?: string },
  env: NodeJS.ProcessEnv = process.env,
): Connection | undefined {
  const secFlags = ["ssl", "sslCa", "sslCert", "sslKey", "sslInsecure", "saslMechanism", "saslUsername"] as const;
  if (!o.bootstrap) {
    const used = secFlags.filter((k) => o[k] !== undefined);
    if (used.length)
      throw new FlagError(
        `--${used[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ` +
          `needs --bootstrap (TLS/SASL apply to an external cluster)`,
      );
    return undefined;
  }
  if (Boolean(o.saslMechanism) !== Boolean(o.saslUsername))
    throw new FlagError("--sasl-mechanism and --sasl-username go together");
  const password = env[ENV.saslPassword];
  if (o.saslMechanism && password === undefined)
    throw new InputError(
      `SASL needs the password in the environment variable ` +
        `${ENV.saslPassword} (it is never taken from the command line)`,
    );
  const ssl =
    o.ssl || o.sslCa || o.sslCert || o.sslKey || o.sslInsecure
      ? { enabled: true, caFile: o.sslCa, certFile: o.sslCert, keyFile: o.sslKey, rejectUnauthorized: !o.sslInsecure }
      : undefined;
  const raw = {
    brokers: o.bootstrap
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ssl,
    sasl: o.saslMechanism
      ? { mechanism: o.saslMechanism.toLowerCase(), username: o.saslUsername, password }
      : undefined,
  };
  const r = connectionSchema.safeParse(raw);
  if (!r.success) {
    // Never echo a password: issues name fields, not values.
    throw new FlagError(
      oneLine(r.error.issues.map((i) => ({ ...i, path: i.path[0] === "brokers" ? ["bootstrap"] : i.path }))),
    );
  }
  return r.data;
}

/** Commander errors (unknown option, missing value...) as one line plus usage, exit 2; --help exits 0. */
export async function parseOrExit(cmd: Command, argv: string[] = process.argv): Promise<void> {
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: () => {} });
  try {
    await cmd.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version")
        process.exit(0);
      usageError(cmd, e.message.replace(/^error:\s*/, ""));
    }
    throw e;
  }
}

export function usageError(cmd: Command, message: string): never {
  process.stderr.write(
    `error: ${message.split("\n").join(" ")}\nusage: npm run ${cmd.name()} -- ${cmd.usage()}  (--help for all flags)\n`,
  );
  process.exit(2);
}

export function flagIssues(error: z.ZodError): string {
  return oneLine(error.issues);
}

/**
 * The one way a command ends on an error: a flag problem prints usage; an input problem
 * (bad file, unreachable cluster) prints its message; anything else its stack. Exit 2.
 */
export function exitOnError(cmd: Command, e: unknown): never {
  if (e instanceof FlagError) usageError(cmd, e.message);
  if (e instanceof InputError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`error: ${(e as Error).stack ?? e}\n`);
  process.exit(2);
}
