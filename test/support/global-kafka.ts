// One real single-node broker shared by every test file (topics are namespaced per test).
// Set OVERSELL_TEST_BOOTSTRAP to use an already running cluster instead.
import type { TestProject } from "vitest/node";
import { EmbeddedCluster } from "../../harness/cluster/embedded.ts";

let cluster: EmbeddedCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const external = process.env.OVERSELL_TEST_BOOTSTRAP;
  if (external) {
    project.provide("bootstrap", external);
    return;
  }
  cluster = await EmbeddedCluster.start({ brokers: 1, log: (l) => console.log(`[kafka] ${l}`) });
  project.provide("bootstrap", cluster.bootstrap);
  project.provide("kafkaVersion", cluster.kafkaVersion);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    bootstrap: string;
    kafkaVersion: string;
  }
}
