// server.properties for one KRaft node (combined broker+controller), sized for a 2-core box.
export interface NodePorts {
  nodeId: number;
  port: number; // client listener
  controllerPort: number;
  advertisedPort?: number; // a fault proxy in front of the broker (network nemesis)
}

/** TLS listeners: SSL (server certificate only) and MTLS (a client certificate is required). */
export interface TlsListeners {
  sslPort: number;
  mtlsPort: number;
  keystore: string;
  keystorePassword: string;
  caFile: string;
}

export interface NodeConfigInput {
  node: NodePorts;
  all: NodePorts[];
  logDir: string;
  kafkaVersion: string;
  /** SASL_PLAINTEXT listener with SCRAM, for the security tests. */
  saslPort?: number;
  tls?: TlsListeners;
  extra?: Record<string, string | number>;
}

export function nodeProperties(i: NodeConfigInput): string {
  const n = i.all.length;
  const voters = i.all.map((x) => `${x.nodeId}@127.0.0.1:${x.controllerPort}`).join(",");
  const rf = Math.min(3, n);
  const { listeners, advertised, protocolMap } = listenerLists(i);
  const props: Record<string, string | number> = {
    "process.roles": "broker,controller",
    "node.id": i.node.nodeId,
    "controller.quorum.voters": voters,
    listeners: listeners.join(","),
    "advertised.listeners": advertised.join(","),
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": protocolMap.join(","),
    "log.dirs": i.logDir,
    "num.partitions": 1,
    "default.replication.factor": rf,
    "min.insync.replicas": rf === 3 ? 2 : 1,
    "offsets.topic.replication.factor": rf,
    "offsets.topic.num.partitions": 5,
    "transaction.state.log.replication.factor": rf,
    "transaction.state.log.min.isr": rf === 3 ? 2 : 1,
    "transaction.state.log.num.partitions": 5,
    "group.initial.rebalance.delay.ms": 0,
    "num.network.threads": 2,
    "num.io.threads": 2,
    "background.threads": 2,
    "log.cleaner.dedupe.buffer.size": 2097152,
    "auto.create.topics.enable": "false",
    // Short sessions: the pause/crash faults move partitions within seconds.
    "group.min.session.timeout.ms": 1000,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 2000,
    "transaction.remove.expired.transaction.cleanup.interval.ms": 60000,
    "log.message.timestamp.after.max.ms": 86400000,
    "unclean.leader.election.enable": "false",
  };
  if (!i.kafkaVersion.startsWith("3.")) {
    props["share.coordinator.state.topic.replication.factor"] = rf;
    props["share.coordinator.state.topic.min.isr"] = rf === 3 ? 2 : 1;
  }
  if (i.saslPort) Object.assign(props, SASL_PROPERTIES);
  if (i.tls) Object.assign(props, tlsProperties(i.tls));
  Object.assign(props, i.extra ?? {});
  return (
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n"
  );
}

/** Client, controller, and the optional SASL and TLS listeners: where each binds and what it advertises. */
function listenerLists(i: NodeConfigInput): { listeners: string[]; advertised: string[]; protocolMap: string[] } {
  const listeners = [`PLAINTEXT://127.0.0.1:${i.node.port}`, `CONTROLLER://127.0.0.1:${i.node.controllerPort}`];
  const advertised = [`PLAINTEXT://127.0.0.1:${i.node.advertisedPort ?? i.node.port}`];
  const protocolMap = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"];
  if (i.saslPort) {
    listeners.push(`SASL://127.0.0.1:${i.saslPort}`);
    advertised.push(`SASL://127.0.0.1:${i.saslPort}`);
    protocolMap.push("SASL:SASL_PLAINTEXT");
  }
  if (i.tls) {
    for (const [name, port] of [
      ["SSL", i.tls.sslPort],
      ["MTLS", i.tls.mtlsPort],
    ] as const) {
      listeners.push(`${name}://127.0.0.1:${port}`);
      advertised.push(`${name}://127.0.0.1:${port}`);
      protocolMap.push(`${name}:SSL`);
    }
  }
  return { listeners, advertised, protocolMap };
}

/** The SASL listener (security tests): PLAIN with one fixed user, and SCRAM. */
const SASL_PROPERTIES: Record<string, string> = {
  "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
  "listener.name.sasl.plain.sasl.jaas.config":
    'org.apache.kafka.common.security.plain.PlainLoginModule required user_oversell="oversell-secret";',
  "listener.name.sasl.scram-sha-256.sasl.jaas.config":
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
  "listener.name.sasl.scram-sha-512.sasl.jaas.config":
    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
};

function tlsProperties(t: TlsListeners): Record<string, string> {
  const props: Record<string, string> = {};
  for (const l of ["ssl", "mtls"]) {
    const p = `listener.name.${l}.`;
    props[`${p}ssl.keystore.type`] = "PKCS12";
    props[`${p}ssl.keystore.location`] = t.keystore;
    props[`${p}ssl.keystore.password`] = t.keystorePassword;
    props[`${p}ssl.key.password`] = t.keystorePassword;
    props[`${p}ssl.truststore.type`] = "PEM";
    props[`${p}ssl.truststore.location`] = t.caFile;
    props[`${p}ssl.client.auth`] = l === "mtls" ? "required" : "none";
  }
  return props;
}

export function log4jConfig(kafka3: boolean, level: "WARN" | "INFO" = "WARN"): string {
  if (kafka3) {
    return [
      `log4j.rootLogger=${level}, stdout`,
      "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "log4j.logger.kafka.server.KafkaRaftServer=INFO",
      "",
    ].join("\n");
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Configuration status="WARN">',
    '  <Appenders><Console name="stdout" target="SYSTEM_OUT"><PatternLayout ' +
      'pattern="[%d] %p %m (%c)%n"/></Console></Appenders>',
    "  <Loggers>",
    '    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>',
    `    <Root level="${level}"><AppenderRef ref="stdout"/></Root>`,
    "  </Loggers>",
    "</Configuration>",
    "",
  ].join("\n");
}
