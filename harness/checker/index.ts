// The checker's public API (see README.md): evaluate() is pure; the rest reads Kafka.
export {
  evaluate,
  contextOf,
  DEFAULT_STUCK_GRACE_MS,
  MAX_EXAMPLES,
  MAX_PRODUCTS,
  type Evaluation,
} from "./evaluate.ts";
export { Judge } from "./judge.ts";
export { OrderBook } from "./book.ts";
export { finish, explain, exampleIds, type JudgeContext, type Judged } from "./evaluation.ts";
export { terminalDecisionTypes, mustBeDecided, isOwed } from "./rules.ts";
export {
  collectDecisions,
  startDecisionWatch,
  findOrdersInTopic,
  DEFAULT_QUIET_MS,
  type CollectOptions,
  type CollectResult,
  type DecisionWatch,
  type DecisionWatchOptions,
  type DoneOptions,
  type DecisionSink,
} from "./collect.ts";
export { LatencyRecorder, CURVE_PERCENTILES, type Percentiles } from "./latency.ts";
export * from "./types.ts";
