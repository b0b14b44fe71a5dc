/** What one limiter (Redis script or in-process) answers for one request. */
export interface WindowResult {
  allowed: boolean;
  remaining: number;
  /** Allowed: ms until the oldest counted request stops counting. Refused: ms until a retry can pass. */
  resetMs: number;
}

/** A policy as the stores take it: validated, window in ms. */
export interface WindowPolicy {
  limit: number;
  windowMs: number;
}

export function samePolicy(a: WindowPolicy, b: WindowPolicy): boolean {
  return a.limit === b.limit && a.windowMs === b.windowMs;
}
