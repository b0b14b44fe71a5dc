import { ExpiringMap, type Expiring } from './expiring.map';
import type { WindowPolicy } from './window-result';

interface Refusal extends Expiring {
  limit: number;
  windowMs: number;
}

/**
 * Keys Redis refused, until the moment Redis said a retry could pass. Nothing
 * can be admitted for such a key before then, on any instance (refusals are
 * not counted, and admissions only leave the window), so refusing locally is
 * exactly what Redis would answer, and a flood of refused requests costs
 * Redis nothing.
 */
export class RefusedKeysCache {
  private readonly refusals: ExpiringMap<Refusal>;

  constructor(maxKeys: number) {
    this.refusals = new ExpiringMap(maxKeys);
  }

  /** ms until the key may pass again, or undefined when it is not known to be refused. */
  refusedFor(key: string, policy: WindowPolicy, now: number): number | undefined {
    const refusal = this.refusals.get(key, now);
    // A caller with another limit or window for the same name and key is a different question.
    if (!refusal || refusal.limit !== policy.limit || refusal.windowMs !== policy.windowMs) {
      return undefined;
    }
    return refusal.expiresAt - now;
  }

  remember(key: string, policy: WindowPolicy, until: number, now: number): void {
    this.refusals.set(
      key,
      { limit: policy.limit, windowMs: policy.windowMs, expiresAt: until },
      now,
    );
  }

  get size(): number {
    return this.refusals.size;
  }
}
