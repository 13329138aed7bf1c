// The harness side of the Kafka connection: what the contract gives every process (schema, the
// OVERSELL_* variable names, reading them, the kafkajs config) plus what only the harness does:
// writing the connection into a SUT instance's environment.
import { ENV, type Connection } from "../../systems-under-test/contract/connection.ts";

export {
  connectionSchema,
  describeConnection,
  ENV,
  kafkaJsConfig,
  SASL_MECHANISMS,
  type Connection,
  type SaslMechanism,
} from "../../systems-under-test/contract/connection.ts";

/** The variables a SUT instance reads back with connectionFromEnv(). */
export function connectionToEnv(c: Connection): Record<string, string> {
  const env: Record<string, string> = { [ENV.bootstrap]: c.brokers.join(",") };
  if (c.ssl?.enabled) {
    env[ENV.ssl] = "1";
    if (c.ssl.caFile) env[ENV.sslCa] = c.ssl.caFile;
    if (c.ssl.certFile) env[ENV.sslCert] = c.ssl.certFile;
    if (c.ssl.keyFile) env[ENV.sslKey] = c.ssl.keyFile;
    if (!c.ssl.rejectUnauthorized) env[ENV.sslInsecure] = "1";
  }
  if (c.sasl) {
    env[ENV.saslMechanism] = c.sasl.mechanism;
    env[ENV.saslUsername] = c.sasl.username;
    env[ENV.saslPassword] = c.sasl.password;
  }
  return env;
}
