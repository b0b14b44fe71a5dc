import { randomUUID } from 'node:crypto';

/**
 * The random value a lease key holds, checked by the extend and release
 * scripts so that only the holder can do either. randomUUID draws from a
 * batched entropy cache, so a fresh value per lock costs next to nothing.
 */
export function ownerValue(): string {
  return randomUUID();
}
