// The checker's public API (see README.md): evaluate() is pure; the rest reads Kafka.
export { evaluate, DEFAULT_STUCK_GRACE_MS, MAX_EXAMPLES, MAX_PRODUCTS, type Evaluation } from "./evaluate.ts";
export {
  collectDecisions, startDecisionWatch, findOrdersInTopic, terminalDecisionTypes, mustBeDecided, DEFAULT_QUIET_MS,
  type CollectOptions, type CollectResult, type DecisionWatch, type DecisionWatchOptions, type DoneOptions,
} from "./collect.ts";
export { LatencyRecorder, CURVE_PERCENTILES, type Percentiles } from "./latency.ts";
export * from "./types.ts";
