import type { StreamConsumerSettings } from '@lattice/redis';

/** Tuning of the stream consumer; the defaults (CONSUMER_DEFAULTS) are what the gateway runs with. */
export interface CacheSyncOptions {
  consumer?: Partial<StreamConsumerSettings>;
}
