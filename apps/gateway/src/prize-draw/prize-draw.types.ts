/** CONTRACT 4.3's draw states. */
export const DRAW_STATES = [
  'NO_DRAW',
  'DRAW_OPEN_NO_ENTRANTS',
  'DRAW_OPEN_WITH_ENTRANTS',
  'DRAW_CLOSED_NO_ENTRANTS',
  'DRAW_CLOSED_WITH_ENTRANTS',
  'DRAW_WON',
] as const;
export type DrawState = (typeof DRAW_STATES)[number];

/** GET /api/draws/:id (and the answer of POST /api/draws). */
export interface DrawView {
  id: string;
  state: DrawState;
  /** Prizes not yet won, in the admin's order. */
  prizes: string[];
  /** How many entered, winners included. */
  entrants: number;
  /** When the draw closes (open with a duration) or closed (closed, won); null otherwise. */
  closesAt: string | null;
}

/** One line of the winners answer. */
export interface Winner {
  name: string;
  prize: string;
  image: string;
}

/** POST /api/draws/:id/entries: the entrant's profile as GitHub gave it. */
export interface EntrantProfile {
  githubId: string;
  login: string;
  name: string;
  image: string;
  url: string | null;
}

/** What a draw keeps of each entrant, so the winners answer needs nothing else. */
export interface EntrantSnapshot {
  name: string;
  image: string;
}

/** A draw as the read script sees it, before its state is computed. */
export interface DrawSnapshot {
  /** How many of the draw's keys exist (0: no draw). */
  existing: number;
  /** PTTL of is_open: -2 closed, -1 open without a duration, else ms left. */
  openTtlMs: number;
  won: boolean;
  entrantsLeft: number;
  winners: number;
  prizesLeft: string[];
  meta: Record<string, string>;
}

export interface PrizeDrawOptions {
  /** How long a GitHub profile request may take, whole answer included (3 s). */
  githubTimeoutMs?: number;
}
