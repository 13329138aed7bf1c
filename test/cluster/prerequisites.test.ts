// Missing tools and a broker that cannot start fail with a message that says what to do.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { BrokerStartError, EmbeddedCluster } from "../../harness/cluster/embedded.ts";
import { ensureKafkaJars } from "../../harness/cluster/jars.ts";
import { javaMajorVersion, requireJava } from "../../harness/cluster/prerequisites.ts";

/** Runs fn with PATH holding only node's folder: no java, no mvn. */
async function withoutTools<T>(fn: () => Promise<T> | T): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

describe("prerequisites", () => {
  it("reads the Java major version of the java on PATH", () => {
    expect(javaMajorVersion()).toBeGreaterThanOrEqual(17);
    expect(() => requireJava("4.1.1")).not.toThrow();
  });

  it("Java missing: says so and how to get it, or to use --bootstrap", async () => {
    await expect(withoutTools(() => requireJava("4.1.1"))).rejects.toThrow(
      /Java was not found on PATH.*openjdk-17.*--bootstrap/s,
    );
  });

  it("Maven missing for a version not cached yet: says so and how to get it", async () => {
    await expect(withoutTools(() => ensureKafkaJars("3.8.1"))).rejects.toThrow(
      /Maven \(mvn\) was not found on PATH.*apt-get install maven/s,
    );
  });

  it("a port in use: refused before any JVM starts, naming the port", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as { port: number }).port;
    try {
      await expect(EmbeddedCluster.start({ brokers: 1, ports: [port] })).rejects.toThrow(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`),
      );
    } finally {
      busy.close();
    }
  });

  it("a broker that cannot start: the error carries the tool's own last lines", async () => {
    const err = await EmbeddedCluster.start({
      brokers: 1,
      brokerProperties: { "num.io.threads": "not-a-number" },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(BrokerStartError);
    expect(err!.message).toMatch(/node 1/);
    expect(err!.message).toMatch(/num\.io\.threads/);
  });
});
