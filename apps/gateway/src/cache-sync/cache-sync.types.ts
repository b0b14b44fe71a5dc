/** Tuning of the stream consumer; the defaults (CONSUMER_DEFAULTS) are what the gateway runs with. */
export interface CacheSyncOptions {
  consumer?: {
    batch?: number;
    blockMs?: number;
    claimIdleMs?: number;
    maxDeliveries?: number;
    eventsMaxLen?: number;
    deadMaxLen?: number;
    forgetConsumerAfterMs?: number;
    housekeepingMs?: number;
  };
}
