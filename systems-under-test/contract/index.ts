// The only module a SUT imports from this project.
export * from "./events.ts";
export * from "./topics.ts";
export * from "./connection.ts";
export * from "./instance.ts";
export * from "./settings.ts";
export * from "./one-partition-sends.ts";
export * from "./stall-watchdog.ts";
export * from "./transactional-retry.ts";
export * from "./create-topics.ts";
export * from "./confluent.ts";
