// Before a run touches an external cluster: can we reach it, and if not, why? Fails within
// a bounded time with a hint naming the likely cause (nothing listening, TLS mismatch, credentials).
import { connect } from "node:net";
import { kafkaClient, TIMEOUTS } from "../kafka/client.ts";
import { describeConnection, type Connection } from "../kafka/connection.ts";
import { InputError } from "../shared/zod-errors.ts";

/** An input problem (exit code 2), not a verdict. */
export class UnreachableClusterError extends InputError {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(`${message}\nhint: ${hint}`);
  }
}

export interface ProbeResult {
  brokers: number;
  controller: number | null;
  clusterId: string;
}

function tcpCheck(
  hostPort: string,
  timeoutMs: number,
): Promise<string> /* "ok", "refused", "timeout", "dns" or a message */ {
  const i = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, i);
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (r: string) => {
      s.destroy();
      resolve(r);
    };
    s.setTimeout(timeoutMs, () => done("timeout"));
    s.once("connect", () => done("ok"));
    s.once("error", (e: NodeJS.ErrnoException) =>
      done(
        e.code === "ECONNREFUSED"
          ? "refused"
          : e.code === "ENOTFOUND" || e.code === "EAI_AGAIN"
            ? "dns"
            : (e.code ?? e.message),
      ),
    );
  });
}

export async function probeCluster(conn: Connection, timeoutMs = 20_000): Promise<ProbeResult> {
  const who = describeConnection(conn);
  const tcp = await Promise.all(
    conn.brokers.map(async (b) => [b, await tcpCheck(b, Math.min(5000, timeoutMs))] as const),
  );
  const reachable = tcp.filter(([, r]) => r === "ok");
  if (reachable.length === 0) {
    const [b, r] = tcp[0]!;
    const hint =
      r === "refused"
        ? `nothing is listening at ${b}: is the broker running (npm run kafka -- status) and is the port right?`
        : r === "dns"
          ? `the host of ${b} does not resolve: check the name (use 127.0.0.1 for this machine)`
          : r === "timeout"
            ? `${b} does not answer TCP: a firewall, a wrong host, or a black-holed network`
            : `connecting to ${b} failed (${r})`;
    throw new UnreachableClusterError(`cannot reach any bootstrap broker (${who})`, hint);
  }
  const kafka = kafkaClient(conn, "oversell-probe", TIMEOUTS.probe);
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
  });
  try {
    const d = await Promise.race([
      (async () => {
        await admin.connect();
        return admin.describeCluster();
      })(),
      deadline,
    ]);
    return { brokers: d.brokers.length, controller: d.controller, clusterId: d.clusterId };
  } catch (e) {
    throw classify(e as Error, conn, who);
  } finally {
    clearTimeout(timer);
    void admin.disconnect().catch(() => {});
  }
}

function classify(e: Error, conn: Connection, who: string): UnreachableClusterError {
  const msg = `${e.name}: ${e.message}`;
  if (/SASL|authenticat/i.test(msg) && conn.sasl) {
    return new UnreachableClusterError(
      `the broker refused the credentials (${who})`,
      `authentication with ${conn.sasl.mechanism} failed: check the username and ` +
        `OVERSELL_SASL_PASSWORD, and that the mechanism is enabled on this listener`,
    );
  }
  if (conn.ssl?.enabled && /certificate required|bad certificate|unknown ca|alert number 4[26]/i.test(msg)) {
    return new UnreachableClusterError(
      `the broker rejected the client's TLS certificate (${who})`,
      conn.ssl.certFile
        ? "this listener requires mutual TLS and does not trust --ssl-cert: " +
            "use a certificate signed by a CA in the broker's truststore"
        : "this listener requires mutual TLS: pass a client certificate with --ssl-cert and its key with --ssl-key",
    );
  }
  if (conn.ssl?.enabled && /certificate|self[- ]signed|issuer|altnames|CERT_/i.test(msg)) {
    return new UnreachableClusterError(
      `the broker's TLS certificate could not be verified (${e.message})`,
      conn.ssl.caFile
        ? `--ssl-ca ${conn.ssl.caFile} is not the CA that signed the broker's certificate (or the ` +
            `certificate does not name this host): pass the broker's CA (npm run kafka -- start --tls prints it)`
        : "the broker's certificate is not signed by a CA this machine trusts: " +
            "pass its CA with --ssl-ca FILE (or --ssl-insecure for a test cluster)",
    );
  }
  if (conn.ssl?.enabled && /EPROTO|SSL|TLS|wrong version|closed|timeout|ECONNRESET/i.test(msg)) {
    return new UnreachableClusterError(
      `the TLS handshake did not complete (${who})`,
      "the port does not speak TLS (a PLAINTEXT or SASL_PLAINTEXT " +
        "listener?): drop --ssl, or use the broker's SSL listener port",
    );
  }
  if (/closed|ECONNRESET|timeout|timed out|not connected/i.test(msg)) {
    return new UnreachableClusterError(
      `the server at ${conn.brokers.join(",")} accepted the ` +
        `connection but did not answer as a Kafka broker (${e.message})`,
      conn.sasl
        ? "it may not be a Kafka port, or the listener expects TLS (--ssl)"
        : "it may not be a Kafka port, or the listener requires TLS (--ssl) or SASL (--sasl-mechanism); check the port",
    );
  }
  return new UnreachableClusterError(
    `could not talk to the cluster (${who}): ${e.message}`,
    "check --bootstrap and the security settings",
  );
}
