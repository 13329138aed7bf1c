// The retry of a transactional kafkajs producer. Until the previous commit's markers are written (milliseconds),
// the broker answers the next transaction's AddPartitionsToTxn with CONCURRENT_TRANSACTIONS, and kafkajs's
// default first retry of 300 ms would add that to the hop: it happens to 6-7% of keyed-transactional's
// transactions at 300 orders/s.
export const TRANSACTIONAL_RETRY = { initialRetryTime: 20, maxRetryTime: 1000, retries: 12 } as const;
