import { drawState, drawView, orderPrizes, parseWinners } from './draw-view';
import type { DrawSnapshot } from './prize-draw.types';

const snapshot = (overrides: Partial<DrawSnapshot> = {}): DrawSnapshot => ({
  existing: 3,
  openTtlMs: -1,
  won: false,
  entrantsLeft: 0,
  winners: 0,
  prizesLeft: ['Mug', 'Keyboard'],
  meta: {
    prizes: JSON.stringify(['Keyboard', 'Mug']),
    created_at: '2025-01-01T00:00:00.000Z',
    closes_at: '',
  },
  ...overrides,
});

describe('draw states', () => {
  it.each<[Partial<DrawSnapshot>, string]>([
    [{ existing: 0 }, 'NO_DRAW'],
    [{ openTtlMs: -1 }, 'DRAW_OPEN_NO_ENTRANTS'],
    [{ openTtlMs: 5000, entrantsLeft: 2 }, 'DRAW_OPEN_WITH_ENTRANTS'],
    [{ openTtlMs: -2 }, 'DRAW_CLOSED_NO_ENTRANTS'],
    [{ openTtlMs: -2, entrantsLeft: 1 }, 'DRAW_CLOSED_WITH_ENTRANTS'],
    [{ openTtlMs: -2, won: true }, 'DRAW_WON'],
    [{ openTtlMs: -2, won: true, winners: 2 }, 'DRAW_WON'],
  ])('%j is %s', (overrides, state) => {
    expect(drawState(snapshot(overrides))).toBe(state);
  });
});

describe('the draw answer', () => {
  const now = Date.parse('2025-01-01T00:00:10.000Z');

  it('is empty for no draw', () => {
    expect(drawView('x', snapshot({ existing: 0 }), now)).toEqual({
      id: 'x',
      state: 'NO_DRAW',
      prizes: [],
      entrants: 0,
      closesAt: null,
    });
  });

  it('lists prizes in the admin order and counts winners as entrants', () => {
    const view = drawView(
      'x',
      snapshot({ openTtlMs: -2, won: true, entrantsLeft: 2, winners: 1, prizesLeft: ['Mug'] }),
      now,
    );
    expect(view).toMatchObject({ state: 'DRAW_WON', prizes: ['Mug'], entrants: 3 });
  });

  it('says when an open draw closes, and when a closed one did', () => {
    expect(drawView('x', snapshot({ openTtlMs: -1 }), now).closesAt).toBeNull();
    const timed = { closes_at: '2025-01-01T00:01:00.000Z', prizes: '[]' };
    expect(drawView('x', snapshot({ openTtlMs: 50_000, meta: timed }), now).closesAt).toBe(
      '2025-01-01T00:01:00.000Z',
    );
    // Without the meta hash, from the TTL.
    expect(drawView('x', snapshot({ openTtlMs: 5_000, meta: {} }), now).closesAt).toBe(
      '2025-01-01T00:00:15.000Z',
    );
    expect(drawView('x', snapshot({ openTtlMs: -2, meta: timed }), now).closesAt).toBe(
      '2025-01-01T00:01:00.000Z',
    );
    const closedByHand = { ...timed, closed_at: '2025-01-01T00:00:30.000Z' };
    expect(drawView('x', snapshot({ openTtlMs: -2, meta: closedByHand }), now).closesAt).toBe(
      '2025-01-01T00:00:30.000Z',
    );
    expect(drawView('x', snapshot({ openTtlMs: -2 }), now).closesAt).toBeNull();
  });
});

describe('prize order', () => {
  it('follows the list, then sorts what it does not name', () => {
    expect(orderPrizes(['c', 'x', 'a', 'b'], ['b', 'a', 'gone'])).toEqual(['b', 'a', 'c', 'x']);
  });
});

describe('the winners answer', () => {
  it('reads the cached JSON into the contract shape', () => {
    expect(parseWinners('[{"image":"https:\\/\\/a\\/x.png","prize":"Mug","name":"Ada"}]')).toEqual([
      { name: 'Ada', prize: 'Mug', image: 'https://a/x.png' },
    ]);
    expect(parseWinners('[]')).toEqual([]);
    expect(parseWinners('{}')).toEqual([]);
  });

  it('refuses what is not a winners list', () => {
    expect(() => parseWinners('{"a":1}')).toThrow();
    expect(() => parseWinners('[{"name":"x"}]')).toThrow();
    expect(() => parseWinners('nope')).toThrow();
  });
});
