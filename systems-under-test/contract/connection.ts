// How a SUT instance reaches the cluster: the harness writes these variables into its environment
// (harness/kafka/connection.ts), so a SUT in any language reads the same names. Secrets never appear
// in describeConnection().
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { KafkaConfig, SASLOptions } from "kafkajs";

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_]+:\d{1,5}$/, "expected host:port (use 127.0.0.1, not localhost or an IPv6 literal)");

export const connectionSchema = z.object({
  brokers: z.array(hostPort).min(1, "at least one bootstrap broker is needed"),
  ssl: z
    .object({
      enabled: z.boolean(),
      caFile: z.string().optional(),
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  sasl: z
    .object({
      mechanism: z.enum(SASL_MECHANISMS),
      username: z.string().min(1),
      password: z.string(),
    })
    .optional(),
});
export type Connection = z.infer<typeof connectionSchema>;

/** Environment variable names, shared by the harness (writer) and every SUT (reader). */
export const ENV = {
  bootstrap: "OVERSELL_BOOTSTRAP",
  ns: "OVERSELL_NS",
  instance: "OVERSELL_INSTANCE",
  ssl: "OVERSELL_SSL",
  sslCa: "OVERSELL_SSL_CA",
  sslCert: "OVERSELL_SSL_CERT",
  sslKey: "OVERSELL_SSL_KEY",
  sslInsecure: "OVERSELL_SSL_INSECURE",
  saslMechanism: "OVERSELL_SASL_MECHANISM",
  saslUsername: "OVERSELL_SASL_USERNAME",
  saslPassword: "OVERSELL_SASL_PASSWORD",
} as const;

export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): Connection {
  const raw = {
    brokers: (env[ENV.bootstrap] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ssl:
      env[ENV.ssl] === "1" || env[ENV.ssl] === "true" || env[ENV.sslCa]
        ? {
            enabled: true,
            caFile: env[ENV.sslCa] || undefined,
            certFile: env[ENV.sslCert] || undefined,
            keyFile: env[ENV.sslKey] || undefined,
            rejectUnauthorized: !(env[ENV.sslInsecure] === "1" || env[ENV.sslInsecure] === "true"),
          }
        : undefined,
    sasl: env[ENV.saslMechanism]
      ? {
          mechanism: env[ENV.saslMechanism]!.toLowerCase(),
          username: env[ENV.saslUsername] ?? "",
          password: env[ENV.saslPassword] ?? "",
        }
      : undefined,
  };
  const parsed = connectionSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".") || "connection"}: ${i.message}`).join("; ");
    const vars = `${ENV.bootstrap}, ${ENV.saslMechanism}, ...`;
    throw new Error(`invalid Kafka connection settings in the environment (${vars}): ${why}`);
  }
  return parsed.data;
}

/** A printable description with no secret in it. */
export function describeConnection(c: Connection): string {
  const parts = [c.brokers.join(",")];
  if (c.ssl?.enabled) parts.push("tls");
  if (c.sasl) parts.push(`sasl=${c.sasl.mechanism} user=${c.sasl.username}`);
  return parts.join(" ");
}

export function kafkaJsConfig(c: Connection, clientId: string, extra: Partial<KafkaConfig> = {}): KafkaConfig {
  const ssl = c.ssl?.enabled
    ? {
        rejectUnauthorized: c.ssl.rejectUnauthorized,
        ca: c.ssl.caFile ? [readFileSync(c.ssl.caFile, "utf8")] : undefined,
        cert: c.ssl.certFile ? readFileSync(c.ssl.certFile, "utf8") : undefined,
        key: c.ssl.keyFile ? readFileSync(c.ssl.keyFile, "utf8") : undefined,
      }
    : undefined;
  const sasl = c.sasl
    ? ({ mechanism: c.sasl.mechanism, username: c.sasl.username, password: c.sasl.password } as SASLOptions)
    : undefined;
  return { clientId, brokers: c.brokers, ssl, sasl, ...extra };
}
