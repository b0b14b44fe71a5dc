import type { DrawSnapshot, DrawState, DrawView, Winner } from './prize-draw.types';

/** The admin's order of prizes, as the meta hash keeps it; [] when missing or unreadable. */
export function listedPrizes(meta: Record<string, string>): string[] {
  try {
    const parsed = JSON.parse(meta.prizes ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

/** `left` in the admin's order, then any prize the list does not name, sorted. */
export function orderPrizes(left: readonly string[], listed: readonly string[]): string[] {
  const remaining = new Set(left);
  const ordered = listed.filter((prize) => remaining.delete(prize));
  return [...ordered, ...[...remaining].sort()];
}

/**
 * CONTRACT 4.3's state of a draw, from one snapshot of its keys:
 * no key at all is NO_DRAW; a cached winners answer is DRAW_WON; else the
 * draw is open while is_open exists (until its TTL or the admin removes it)
 * and closed after, with or without entrants.
 */
export function drawState(snapshot: DrawSnapshot): DrawState {
  if (snapshot.existing === 0) return 'NO_DRAW';
  if (snapshot.won) return 'DRAW_WON';
  const entrants = snapshot.entrantsLeft + snapshot.winners;
  if (snapshot.openTtlMs !== -2) {
    return entrants > 0 ? 'DRAW_OPEN_WITH_ENTRANTS' : 'DRAW_OPEN_NO_ENTRANTS';
  }
  return entrants > 0 ? 'DRAW_CLOSED_WITH_ENTRANTS' : 'DRAW_CLOSED_NO_ENTRANTS';
}

/** The answer of GET /api/draws/:id. */
export function drawView(id: string, snapshot: DrawSnapshot, nowMs: number): DrawView {
  const state = drawState(snapshot);
  if (state === 'NO_DRAW') return { id, state, prizes: [], entrants: 0, closesAt: null };
  const { meta } = snapshot;
  let closesAt: string | null;
  if (state === 'DRAW_OPEN_NO_ENTRANTS' || state === 'DRAW_OPEN_WITH_ENTRANTS') {
    // Open: when its TTL runs out, or null when only the admin can close it.
    closesAt =
      snapshot.openTtlMs < 0
        ? null
        : meta.closes_at || new Date(nowMs + snapshot.openTtlMs).toISOString();
  } else {
    // Closed: by hand (closed_at), else when its duration ran out.
    closesAt = meta.closed_at || meta.closes_at || null;
  }
  return {
    id,
    state,
    prizes: orderPrizes(snapshot.prizesLeft, listedPrizes(meta)),
    entrants: snapshot.entrantsLeft + snapshot.winners,
    closesAt,
  };
}

/**
 * The winners answer as the winners script cached it, each line in the
 * contract's shape; throws on anything that is not such a list.
 */
export function parseWinners(json: string): Winner[] {
  const parsed = JSON.parse(json) as unknown;
  // cjson writes an empty list as {}; the script writes [] itself, but be lenient.
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    if (Object.keys(parsed).length === 0) return [];
  }
  if (!Array.isArray(parsed)) throw new Error('the winners answer is not a list');
  return parsed.map((line: unknown) => {
    const { name, prize, image } = (line ?? {}) as Record<string, unknown>;
    if (typeof prize !== 'string') throw new Error('a winner has no prize');
    return {
      name: typeof name === 'string' ? name : '',
      prize,
      image: typeof image === 'string' ? image : '',
    };
  });
}
