import { PrizeDrawKeys, profileKey } from './prize-draw.keys';

describe('prize-draw keys', () => {
  it('are the contract layout on a standalone Redis', () => {
    expect(new PrizeDrawKeys('spring', false).all).toEqual([
      'prizedraw:spring:is_open',
      'prizedraw:spring:prizes',
      'prizedraw:spring:entrants',
      'prizedraw:spring:winners',
      'prizedraw:spring:winners_json',
      'prizedraw:spring:meta',
      'prizedraw:spring:entrant_profiles',
    ]);
    expect(profileKey('octocat')).toBe('prizedraw:profiles:octocat');
  });

  it('share the hash tag of the draw id on a cluster', () => {
    const keys = new PrizeDrawKeys('spring', true).all;
    expect(keys[0]).toBe('prizedraw:{spring}:is_open');
    for (const key of keys) expect(key.match(/\{[^}]*\}/)?.[0]).toBe('{spring}');
  });
});
