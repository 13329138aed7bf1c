// The harness's Kafka layer: connection, client factory (the read_committed fix is a patch on kafkajs).
export * from "./connection.ts";
export * from "./client.ts";
