import type { CacheNamespace } from './cache.namespace';

/** Fills the cache at start-up; runs once across all instances starting together. */
export interface CacheWarmer {
  /** Names the run-once task: instances warming the same name share one run. */
  readonly name: string;
  /** How long a finished warm-up counts (ms); instances starting within it skip it. Default 600000. */
  readonly doneTtlMs?: number;
  warm(cache: CacheNamespace, signal: AbortSignal): Promise<void>;
}
