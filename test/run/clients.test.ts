// The client seam: which Kafka client a SUT with a `client` setting runs on, as the run records it.
import { describe, expect, it } from "vitest";
import { CONFLUENT_MODULE_ENV, prepareClient } from "../../harness/clients/index.ts";
import { confluentDir, installedConfluent } from "../../harness/clients/confluent.ts";
import { loadManifest } from "../../harness/sut/manifest.ts";
import { SettingInputError } from "../../harness/sut/settings.ts";

describe("prepareClient", () => {
  const kt = loadManifest("keyed-transactional");

  it("records kafkajs and its installed version by default, and nothing for a SUT without the setting", async () => {
    const c = await prepareClient(kt, undefined);
    expect(c?.client.name).toBe("kafkajs");
    expect(c?.client.version).toBe("2.2.4");
    expect(c?.env).toEqual({});
    expect(await prepareClient(loadManifest("naive"), undefined)).toBeUndefined();
  });

  it("rejects a client the SUT does not declare", async () => {
    await expect(prepareClient(kt, { OVERSELL_SETTING_CLIENT: "rdkafka" })).rejects.toBeInstanceOf(SettingInputError);
  });

  // Installing takes minutes on a machine without the prebuilt binding (setup --clients does it once):
  // only the already installed client is checked here.
  it.runIf(installedConfluent() !== undefined)(
    "points the instances at the cached @confluentinc/kafka-javascript and records its version",
    async () => {
      const c = await prepareClient(kt, { OVERSELL_SETTING_CLIENT: "confluent" });
      expect(c?.client).toEqual({ name: "@confluentinc/kafka-javascript (librdkafka)", version: "1.10.1" });
      expect(c?.env[CONFLUENT_MODULE_ENV]?.startsWith(confluentDir())).toBe(true);
    },
  );
});
