package oversell.streams;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** What the harness passes through the environment (the same names as contract/connection.ts). */
final class Settings {
  static final Pattern NAMESPACE = Pattern.compile("^[A-Za-z0-9._-]{1,180}$");

  final String ns;
  final String instance;
  final String bootstrap;
  final Map<String, String> env;
  /** OVERSELL_SETTING_<NAME>, names lower-cased (as instanceContext() does in TypeScript). */
  final Map<String, String> settings = new HashMap<>();

  private Settings(Map<String, String> env) {
    this.env = env;
    this.ns = env.getOrDefault("OVERSELL_NS", "");
    if (ns.isEmpty()) {
      throw new IllegalArgumentException("OVERSELL_NS is not set: instances are started by the harness (see sut.json)");
    }
    if (!NAMESPACE.matcher(ns).matches()) {
      throw new IllegalArgumentException("OVERSELL_NS \"" + ns
          + "\" may hold only letters, digits, '.', '_' and '-' (at most 180)");
    }
    this.instance = env.getOrDefault("OVERSELL_INSTANCE", "0");
    this.bootstrap = env.getOrDefault("OVERSELL_BOOTSTRAP", "").trim();
    if (bootstrap.isEmpty()) {
      throw new IllegalArgumentException("OVERSELL_BOOTSTRAP is not set (host:port[,host:port...])");
    }
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (e.getKey().startsWith("OVERSELL_SETTING_")) {
        settings.put(e.getKey().substring("OVERSELL_SETTING_".length()).toLowerCase(Locale.ROOT), e.getValue());
      }
    }
  }

  static Settings fromEnv() {
    return new Settings(System.getenv());
  }

  String topic(String name) {
    return ns + "." + name;
  }

  String setting(String name, String fallback) {
    String v = settings.get(name);
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  long longSetting(String name, long fallback, long min) {
    String v = settings.get(name);
    if (v == null || v.isBlank()) return fallback;
    try {
      long n = Long.parseLong(v.trim());
      if (n < min) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("OVERSELL_SETTING_" + name.toUpperCase(Locale.ROOT) + "=\"" + v
          + "\" is not an integer >= " + min);
    }
  }

  /** Stable per (namespace, instance): a restarted instance reuses its process id and local stores. */
  Path stateDir() {
    String base = env.getOrDefault("OVERSELL_STATE_DIR", System.getProperty("java.io.tmpdir"));
    return Path.of(base, "oversell-kafka-streams", ns, "instance-" + instance);
  }

  boolean flag(String name) {
    String v = env.get(name);
    return "1".equals(v) || "true".equalsIgnoreCase(v);
  }
}
