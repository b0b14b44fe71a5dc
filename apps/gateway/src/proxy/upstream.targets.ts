import {
  CircuitBreaker,
  DEFAULT_BREAKER,
  type AttemptOutcome,
  type BreakerOptions,
} from './circuit.breaker';

/** One upstream of a route, as the balancer sees it. */
export interface UpstreamTarget {
  /** Origin and base path, without a trailing slash. */
  readonly url: string;
  /** The URL without credentials, as metrics and traces name the target. */
  readonly label: string;
  /** Requests sent to it that have not had their answer's head (or failed) yet. */
  outstanding: number;
  readonly breaker: CircuitBreaker;
}

/** One request's use of a target, given back once with what it told. */
export interface TargetLease {
  readonly target: UpstreamTarget;
  settle(outcome: AttemptOutcome): void;
}

export interface UpstreamTargetsOptions {
  /** Passive health per target; false keeps every target in rotation whatever happens. */
  breaker?: BreakerOptions | false;
  /** Told each target's place in rotation at the start and on every change (1 in, 0 out). */
  onRotation?: (url: string, inRotation: boolean) => void;
}

/**
 * The targets of one route and the choice among them: the target in rotation
 * with the fewest outstanding requests, ties broken by round robin, so a slow
 * target gets less and equal targets get turns. Targets out of rotation (see
 * CircuitBreaker) are skipped, but for a single probe once their cool-down is
 * over.
 */
export class UpstreamTargets {
  readonly targets: readonly UpstreamTarget[];
  /** Where the next round-robin scan starts. */
  private next = 0;
  private readonly onRotation?: (url: string, inRotation: boolean) => void;

  constructor(urls: readonly string[], options: UpstreamTargetsOptions = {}) {
    const breaking = options.breaker !== false;
    const breakerOptions = options.breaker || DEFAULT_BREAKER;
    this.targets = urls.map((url) => ({
      url: url.endsWith('/') ? url.slice(0, -1) : url,
      label: targetLabel(url),
      outstanding: 0,
      breaker: breaking ? new CircuitBreaker(breakerOptions) : new CircuitBreaker(NEVER_OPENS),
    }));
    this.onRotation = options.onRotation;
    for (const target of this.targets) this.onRotation?.(target.url, true);
  }

  /**
   * Takes a target for one request (not `except`, the one a retry leaves
   * behind), or returns undefined when no other target admits requests now.
   */
  take(except?: UpstreamTarget): TargetLease | undefined {
    const count = this.targets.length;
    let chosen: UpstreamTarget | undefined;
    let chosenAt = 0;
    for (let i = 0; i < count; i++) {
      const at = (this.next + i) % count;
      const target = this.targets[at];
      if (target === except || !target.breaker.admits) continue;
      if (!chosen || target.outstanding < chosen.outstanding) {
        chosen = target;
        chosenAt = at;
      }
    }
    if (!chosen) return undefined;
    this.next = (chosenAt + 1) % count;
    const target = chosen;
    const probe = target.breaker.take();
    target.outstanding += 1;
    let settled = false;
    return {
      target,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        target.outstanding -= 1;
        const before = target.breaker.inRotation;
        target.breaker.settle(outcome, probe);
        const after = target.breaker.inRotation;
        if (after !== before) this.onRotation?.(target.url, after);
      },
    };
  }
}

/** A target as metrics and traces name it: its URL without any credentials. */
export function targetLabel(url: string): string {
  const { protocol, host, pathname } = new URL(url);
  return `${protocol}//${host}${pathname === '/' ? '' : pathname}`;
}

/** For targets without passive health (the platform's own apps): never out of rotation. */
const NEVER_OPENS: BreakerOptions = {
  failuresToOpen: Number.POSITIVE_INFINITY,
  coolDownMs: 0,
  maxCoolDownMs: 0,
};
