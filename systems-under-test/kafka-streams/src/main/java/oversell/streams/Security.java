package oversell.streams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;

/** OVERSELL_SSL* / OVERSELL_SASL_* to Kafka client properties (PEM files, no keystores). */
final class Security {
  private Security() {}

  static void apply(Settings s, Properties p) throws IOException {
    String ca = s.env.get("OVERSELL_SSL_CA");
    boolean ssl = s.flag("OVERSELL_SSL") || (ca != null && !ca.isEmpty());
    String mechanism = s.env.getOrDefault("OVERSELL_SASL_MECHANISM", "").toLowerCase(Locale.ROOT);
    boolean sasl = !mechanism.isEmpty();
    p.put("security.protocol", sasl ? (ssl ? "SASL_SSL" : "SASL_PLAINTEXT") : (ssl ? "SSL" : "PLAINTEXT"));
    if (ssl) {
      if (ca != null && !ca.isEmpty()) {
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca);
      }
      String cert = s.env.get("OVERSELL_SSL_CERT");
      String key = s.env.get("OVERSELL_SSL_KEY");
      if (cert != null && !cert.isEmpty() && key != null && !key.isEmpty()) {
        p.put("ssl.keystore.type", "PEM");
        p.put("ssl.keystore.certificate.chain", Files.readString(Path.of(cert)));
        p.put("ssl.keystore.key", Files.readString(Path.of(key)));
      }
      // Java has no "trust anything" switch; insecure here means no host name check.
      if (s.flag("OVERSELL_SSL_INSECURE")) p.put("ssl.endpoint.identification.algorithm", "");
    }
    if (sasl) {
      String user = jaasQuote(s.env.getOrDefault("OVERSELL_SASL_USERNAME", ""));
      String pass = jaasQuote(s.env.getOrDefault("OVERSELL_SASL_PASSWORD", ""));
      String module;
      switch (mechanism) {
        case "plain" -> {
          p.put("sasl.mechanism", "PLAIN");
          module = "org.apache.kafka.common.security.plain.PlainLoginModule";
        }
        case "scram-sha-256", "scram-sha-512" -> {
          p.put("sasl.mechanism", mechanism.toUpperCase(Locale.ROOT));
          module = "org.apache.kafka.common.security.scram.ScramLoginModule";
        }
        default -> throw new IllegalArgumentException("OVERSELL_SASL_MECHANISM \"" + mechanism
            + "\" is not plain, scram-sha-256 or scram-sha-512");
      }
      p.put("sasl.jaas.config", module + " required username=" + user + " password=" + pass + ";");
    }
  }

  private static String jaasQuote(String v) {
    return "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
