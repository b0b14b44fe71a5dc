/**
 * The contract's layout (section 7), one draw per id:
 *   prizedraw:<id>:is_open           string  "true", with a TTL when the draw has a duration
 *   prizedraw:<id>:prizes            set     prize names not yet won
 *   prizedraw:<id>:entrants          set     lower-cased GitHub ids (winners are SPOP'd out)
 *   prizedraw:<id>:winners           hash    prize → GitHub id
 *   prizedraw:<id>:winners_json      string  the cached winners answer
 *   prizedraw:profiles:<githubId>    string  the GitHub profile JSON, one-hour TTL
 * and beside it, ours:
 *   prizedraw:<id>:meta              hash    prizes (JSON list, in the admin's order),
 *                                            created_at, closes_at, closed_at
 *   prizedraw:<id>:entrant_profiles  hash    GitHub id → { name, image } as entered,
 *                                            so the winners answer never needs the
 *                                            one-hour profile cache
 * On Redis Cluster the `prizedraw:<id>` part becomes `prizedraw:{<id>}`, so
 * a draw's keys share a slot and its scripts run there. Profiles are never
 * touched by a script, so they carry no tag. Draw ids are `a-z 0-9 _ -`
 * (no `:`), and `profiles` is refused as a draw id, so no two draws' keys,
 * nor a draw's and a profile's, can collide.
 */
export class PrizeDrawKeys {
  readonly isOpen: string;
  readonly prizes: string;
  readonly entrants: string;
  readonly winners: string;
  readonly winnersJson: string;
  readonly meta: string;
  readonly entrantProfiles: string;

  constructor(id: string, clustered: boolean) {
    const base = clustered ? `prizedraw:{${id}}` : `prizedraw:${id}`;
    this.isOpen = `${base}:is_open`;
    this.prizes = `${base}:prizes`;
    this.entrants = `${base}:entrants`;
    this.winners = `${base}:winners`;
    this.winnersJson = `${base}:winners_json`;
    this.meta = `${base}:meta`;
    this.entrantProfiles = `${base}:entrant_profiles`;
  }

  /** Every key of the draw, in the order the scripts take them (KEYS[1..7]). */
  get all(): string[] {
    return [
      this.isOpen,
      this.prizes,
      this.entrants,
      this.winners,
      this.winnersJson,
      this.meta,
      this.entrantProfiles,
    ];
  }
}

/** The profile cache of one GitHub id (CONTRACT 7). */
export const profileKey = (githubId: string): string => `prizedraw:profiles:${githubId}`;

/** One hour, as the contract says. */
export const PROFILE_TTL_SECONDS = 3600;
