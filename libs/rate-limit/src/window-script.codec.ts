import { APPROXIMATE_BUCKETS } from './rate-limit.constants';
import type { RateLimitAlgorithm } from './rate-limit.types';
import type { WindowPolicy, WindowResult } from './window-result';

/** The script's number for each algorithm. */
export const SCRIPT_KIND: Readonly<Record<RateLimitAlgorithm, number>> = {
  exact: 1,
  approximate: 2,
};
export const EXACT = SCRIPT_KIND.exact;

/** Values the script answers per group. */
const REPLY_WIDTH = 5;

/** A policy's penalty: a refusal blocks `key` for `ms` (0: no penalty, `key` unused). */
export interface Block {
  key: string;
  ms: number;
}

export const NO_BLOCK: Block = { key: '', ms: 0 };

/** One counter's requests in one script call; or, with `giveback`, unused leased admissions returned. */
export interface ScriptGroup extends WindowPolicy {
  key: string;
  block: Block;
  /** The algorithm, as the script numbers it (SCRIPT_KIND). */
  kind: number;
  /** Units of its one request when above 1 (then `requests` holds one); else 1. */
  cost: number;
  /** The requests decided in this group: only their number is sent. */
  requests: readonly unknown[];
  /** Admissions asked for beyond `requests`, to lease. */
  extra: number;
  giveback?: { stamp: number; count: number };
}

/** What the script answered for one group. */
export interface GroupReply {
  admitted: number;
  /** What remains of the limit once the call's admissions and lease are taken. */
  remaining: number;
  /** Ms until the oldest counted admission stops counting. */
  resetMs: number;
  /** Ms until a refused request could pass (0 when none was refused). */
  retryMs: number;
  leased: number;
}

/** The script's keys and arguments for one call. */
export interface ScriptCall {
  keys: string[];
  args: number[];
}

/**
 * The wire format of rate-limit.lua (described at the top of the script): the
 * groups of one call as its KEYS and ARGV, and its reply as each group's
 * answer and each request's result. Pure: no Redis, no clock.
 */
export class WindowScriptCodec {
  constructor(private readonly leaseMs: number) {}

  encode(groups: readonly ScriptGroup[]): ScriptCall {
    // Groups of one call mostly share a few policies: each is sent once, and groups refer to it.
    const keys: string[] = new Array<string>(groups.length);
    /** The block keys, after the counters, in the order of their groups. */
    let blockKeys: string[] | undefined;
    const policies: number[] = [];
    const entries: number[] = [];
    const seen = new Map<string, number>();
    for (let i = 0; i < groups.length; i++) {
      const { key, kind, limit, windowMs, cost, block, requests, extra, giveback } = groups[i];
      keys[i] = key;
      if (giveback) {
        entries.push(0, giveback.stamp, giveback.count);
        continue;
      }
      const id = `${kind}:${limit}:${windowMs}:${block.ms}`;
      let index = seen.get(id);
      if (index === undefined) {
        index = seen.size + 1;
        seen.set(id, index);
        policies.push(kind, limit, windowMs, block.ms);
      }
      if (block.ms > 0) (blockKeys ??= []).push(block.key);
      // A costly request is sent as minus its cost: one request, admitted whole or not at all.
      entries.push(index, cost === 1 ? requests.length : -cost, extra);
    }
    const args = [APPROXIMATE_BUCKETS, this.leaseMs, seen.size, ...policies, ...entries];
    if (blockKeys) keys.push(...blockKeys);
    return { keys, args };
  }

  /** The answer for the `index`-th group of the call. */
  decode(reply: readonly number[], index: number): GroupReply {
    const at = index * REPLY_WIDTH;
    return {
      admitted: reply[at],
      remaining: reply[at + 1],
      resetMs: reply[at + 2],
      retryMs: reply[at + 3],
      leased: reply[at + 4],
    };
  }

  /** Redis's clock (ms) when the call ran: the reply's last value. */
  clock(reply: readonly number[]): number {
    return reply[reply.length - 1];
  }

  /** The stamp Redis gave the admissions a call leased: its clock plus the lease time. */
  leaseStamp(reply: readonly number[]): number {
    return this.clock(reply) + this.leaseMs;
  }

  /** The result of the `i`-th request of a group: the first `admitted` pass, the rest are refused. */
  requestResult(group: GroupReply, i: number): WindowResult {
    const { admitted, remaining, resetMs, retryMs, leased } = group;
    return i < admitted
      ? // The i-th admitted saw what the later ones and the lease had not taken yet.
        { allowed: true, remaining: Math.max(0, remaining + leased + admitted - 1 - i), resetMs }
      : { allowed: false, remaining: 0, resetMs: retryMs };
  }
}
