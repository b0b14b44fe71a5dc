import { parseCacheEvent } from './cache-event.schema';

const reasonOf = (input: unknown): string => {
  try {
    parseCacheEvent(input);
  } catch (error) {
    expect(error).toMatchObject({ code: 'INVALID_EVENT', status: 400 });
    return (error as Error).message;
  }
  throw new Error('expected the event to be refused');
};

describe('cache-sync events', () => {
  it('parses each type', () => {
    expect(
      parseCacheEvent({ key: 'SET', value: { data: { key: 'a', value: { x: 1 } }, ttl: 60 } }),
    ).toEqual({
      type: 'SET',
      key: 'a',
      value: { x: 1 },
      ttl: 60,
    });
    expect(parseCacheEvent({ key: 'SET', value: { data: { key: 'a', value: null } } })).toEqual({
      type: 'SET',
      key: 'a',
      value: null,
    });
    expect(
      parseCacheEvent({ key: 'SET', value: { data: { key: 'a', url: 'http://h/x' }, ttl: '0.5' } }),
    ).toEqual({
      type: 'SET',
      key: 'a',
      url: 'http://h/x',
      ttl: 0.5,
    });
    expect(parseCacheEvent({ key: 'GET', value: { data: { key: 'a' } } })).toEqual({
      type: 'GET',
      key: 'a',
    });
    expect(parseCacheEvent({ key: 'DELETE', value: { data: { keys: ['a', 'b'] } } })).toEqual({
      type: 'DELETE',
      keys: ['a', 'b'],
    });
    expect(parseCacheEvent({ key: 'DELETE', value: { data: { key: 'a' } } })).toEqual({
      type: 'DELETE',
      keys: ['a'],
    });
    expect(
      parseCacheEvent({ key: 'DELETE_PATTERN', value: { data: { pattern: 'routes:*' } } }),
    ).toEqual({
      type: 'DELETE_PATTERN',
      pattern: 'routes:*',
    });
  });

  it.each([
    [{ key: 'FLUSH', value: { data: {} } }, /key: must be one of SET, GET, DELETE, DELETE_PATTERN/],
    [{ key: 'SET', value: {} }, /value\.data: is missing/],
    [{ key: 'SET', value: { data: null } }, /value\.data: is missing/],
    [
      { key: 'SET', value: { data: { key: 'a', value: 1 }, ttl: 'soon' } },
      /value\.ttl: must be a number of seconds/,
    ],
    [{ key: 'SET', value: { data: { key: 'a', value: 1 }, ttl: -5 } }, /value\.ttl/],
    [{ key: 'SET', value: { data: { key: 'a', value: 1 }, ttl: '1e3' } }, /value\.ttl/],
    [{ key: 'SET', value: { data: { key: 'a', value: 1 }, ttl: 999_999_999 } }, /value\.ttl/],
    [
      { key: 'SET', value: { data: { key: 'a' } } },
      /value\.data: needs exactly one of value and url/,
    ],
    [
      { key: 'SET', value: { data: { key: 'a', value: 1, url: 'http://x' } } },
      /needs exactly one of value and url/,
    ],
    [
      { key: 'SET', value: { data: { key: 'has space', value: 1 } } },
      /value\.data\.key: must be 1 to 256 characters/,
    ],
    [{ key: 'SET', value: { data: { key: 7, value: 1 } } }, /value\.data\.key: must be a string/],
    [{ key: 'GET', value: { data: { key: 'a', extra: 1 } } }, /unknown field "extra"/],
    [{ key: 'DELETE', value: { data: { keys: [] } } }, /must name at least one key/],
    [{ key: 'DELETE', value: { data: {} } }, /needs exactly one of keys and key/],
    [
      { key: 'DELETE_PATTERN', value: { data: { pattern: 'a\\*' } } },
      /value\.data\.pattern: may not contain \\/,
    ],
    [
      { key: 'DELETE_PATTERN', value: { data: { pattern: '{session}*' } } },
      /value\.data\.pattern: may not contain "\{"/,
    ],
    [{ key: 'DELETE_PATTERN', value: { data: { pattern: '[' } } }, /never closed/],
    ['a string', /must be a JSON object/],
    [null, /must be a JSON object/],
    [{ key: 'GET', value: { data: { key: 'a' } }, extra: true }, /unknown field "extra"/],
  ])('refuses %j', (input, reason) => {
    expect(reasonOf(input)).toMatch(reason);
  });

  it('lists every problem in details', () => {
    try {
      parseCacheEvent({ key: 'NOPE', value: { data: {}, ttl: 'x' } });
    } catch (error) {
      expect((error as { details: unknown }).details).toEqual([
        { path: 'key', message: 'must be one of SET, GET, DELETE, DELETE_PATTERN' },
        { path: 'value.ttl', message: expect.stringMatching(/must be a number of seconds/) },
      ]);
    }
    expect.assertions(1);
  });
});
