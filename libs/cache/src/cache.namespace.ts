import { assertCacheKey, assertCachePattern, assertCacheTags, assertNamespace } from './cache-key';
import { MAX_TAGS_PER_DELETE, MAX_TAGS_PER_ENTRY } from './cache.constants';
import type { CacheStore } from './cache.store';
import type { CacheLoader, CacheResult, CacheSetOptions, GetOrSetOptions } from './cache.types';

/**
 * The cache as code sees it: one namespace of the two-level cache. Keys are
 * relative to the namespace (`cache.namespace('routes').get('table')` reads
 * `cache:routes:table` under KEY_PREFIX); namespaces nest. Values come back
 * deeply frozen (bytes as a fresh Buffer), exactly as any instance reads them.
 */
export class CacheNamespace {
  constructor(
    protected readonly store: CacheStore,
    /** '' for the root, else `a:b:` — what this namespace adds in front of its keys. */
    readonly prefix: string,
  ) {}

  /** A namespace inside this one: `name` is 1 to 64 characters of A-Z a-z 0-9 _ . - */
  namespace(name: string): CacheNamespace {
    assertNamespace(name);
    return new CacheNamespace(this.store, `${this.prefix}${name}:`);
  }

  /**
   * The fresh value of `key`, or undefined when there is none. Throws
   * CacheUnavailableError (503) when L1 cannot answer and Redis does not.
   */
  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      assertCacheKey(key);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.store.get(this.prefix + key) as Promise<T | undefined>;
  }

  /**
   * Calls `listener` whenever `key` may have changed (a write or delete on any
   * instance, or a gap in the invalidation feed); read the key again in it.
   * Returns a function that stops watching.
   */
  watch(key: string, listener: () => void): () => void {
    assertCacheKey(key);
    return this.store.watch(this.prefix + key, listener);
  }

  /**
   * Stores `value` (anything JSON can hold, or bytes as a Buffer/Uint8Array)
   * in Redis and in this instance's L1; every other instance drops its copy.
   */
  async set(key: string, value: unknown, options: CacheSetOptions = {}): Promise<void> {
    assertCacheKey(key);
    return this.store.set(this.prefix + key, value, this.withFullTags(options));
  }

  /** Deletes one key or several, everywhere; resolves with how many Redis had. */
  async delete(keys: string | readonly string[]): Promise<number> {
    const list = typeof keys === 'string' ? [keys] : keys;
    for (const key of list) assertCacheKey(key);
    return this.store.delete(list.map((key) => this.prefix + key));
  }

  /**
   * Deletes every key of this namespace matching the glob `pattern` (SCAN and
   * batched UNLINK on every master, never KEYS), from Redis and every L1;
   * resolves with how many Redis had. See docs/cache.md for the grammar.
   */
  async deletePattern(pattern: string): Promise<number> {
    assertCachePattern(pattern);
    return this.store.deletePattern(this.prefix + pattern);
  }

  /**
   * The fresh value of `key`, or else the loader's, stored for `ttl` seconds.
   * Concurrent misses of one key on one instance call the loader once; with
   * `lock: true`, once across all instances. If the loader fails while a
   * value is inside its grace period, that value is returned (use
   * getOrSetEntry to be told so).
   */
  async getOrSet<T>(
    key: string,
    loader: CacheLoader<T>,
    options: GetOrSetOptions = {},
  ): Promise<T> {
    return (await this.getOrSetEntry(key, loader, options)).value;
  }

  /** As getOrSet, also saying where the value came from and whether it is stale. */
  async getOrSetEntry<T>(
    key: string,
    loader: CacheLoader<T>,
    options: GetOrSetOptions = {},
  ): Promise<CacheResult<T>> {
    assertCacheKey(key);
    return this.store.getOrSet(this.prefix + key, loader, this.withFullTags(options));
  }

  /**
   * Deletes every entry of this namespace stored with any of `tags`, from
   * Redis and every L1 at once, on standalone Redis and on a cluster, without
   * a SCAN; resolves with how many entries Redis had.
   */
  async deleteTags(tags: string | readonly string[]): Promise<number> {
    const list = typeof tags === 'string' ? [tags] : tags;
    assertCacheTags(list, MAX_TAGS_PER_DELETE);
    return this.store.deleteTags(list.map((tag) => this.prefix + tag));
  }

  /** The options with their tags checked and placed in this namespace, as keys are. */
  private withFullTags<O extends CacheSetOptions>(options: O): O {
    if (options.tags === undefined) return options;
    assertCacheTags(options.tags, MAX_TAGS_PER_ENTRY);
    return { ...options, tags: options.tags.map((tag) => this.prefix + tag) };
  }
}
