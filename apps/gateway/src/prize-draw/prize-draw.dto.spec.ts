import { DrawParams, EnterDrawBody, GITHUB_ID, StartDrawBody } from './prize-draw.dto';

const parse = (
  schema: { safeParse(v: unknown): { success: boolean; data?: unknown } },
  v: unknown,
) => schema.safeParse(v);

describe('GitHub ids', () => {
  it.each(['a', 'octocat', 'Octo-Cat', 'a-b-c', '0', 'x'.repeat(39), 'a1-2b'])(
    'accepts %s',
    (id) => {
      expect(GITHUB_ID.test(id)).toBe(true);
    },
  );

  it.each([
    '',
    '-a',
    'a-',
    'a--b',
    'x'.repeat(40),
    'a_b',
    'a.b',
    'a b',
    '../x',
    'a/b',
    'é',
    'a\nb',
    '%2e%2e',
  ])('refuses %j', (id) => {
    expect(GITHUB_ID.test(id)).toBe(false);
    expect(parse(EnterDrawBody.schema, { githubId: id }).success).toBe(false);
  });

  it('lower-cases and trims the id it accepts', () => {
    expect(parse(EnterDrawBody.schema, { githubId: '  OctoCat ' })).toEqual({
      success: true,
      data: { githubId: 'octocat' },
    });
  });

  it('refuses unknown fields and non-strings', () => {
    expect(parse(EnterDrawBody.schema, { githubId: 'a', extra: 1 }).success).toBe(false);
    expect(parse(EnterDrawBody.schema, { githubId: 7 }).success).toBe(false);
    expect(parse(EnterDrawBody.schema, {}).success).toBe(false);
  });
});

describe('draw ids', () => {
  it.each(['a', 'spring-2025', 'x_y', '0', 'z'.repeat(64)])('accepts %s', (id) => {
    expect(parse(DrawParams.schema, { id }).success).toBe(true);
  });

  it.each(['', 'Spring', 'a:b', 'a b', 'z'.repeat(65), 'é', 'a.b', 'profiles'])(
    'refuses %j',
    (id) => {
      expect(parse(DrawParams.schema, { id }).success).toBe(false);
    },
  );
});

describe('starting a draw', () => {
  const ok = (body: unknown) => parse(StartDrawBody.schema, body);

  it('takes prizes in order, with an optional duration', () => {
    expect(ok({ id: 'a', prizes: [' Keyboard ', 'Mug'] })).toEqual({
      success: true,
      data: { id: 'a', prizes: ['Keyboard', 'Mug'] },
    });
    expect(ok({ id: 'a', prizes: ['Mug'], durationSeconds: 60 }).success).toBe(true);
    expect(ok({ id: 'a', prizes: ['Mug'], durationSeconds: null }).success).toBe(true);
  });

  it.each([
    [{ id: 'a', prizes: [] }],
    [{ id: 'a', prizes: ['Mug', 'Mug'] }],
    [{ id: 'a', prizes: ['Mug', ' Mug'] }],
    [{ id: 'a', prizes: [''] }],
    [{ id: 'a', prizes: ['   '] }],
    [{ id: 'a', prizes: ['x'.repeat(201)] }],
    [{ id: 'a', prizes: ['bad\u0000'] }],
    [{ id: 'a', prizes: Array.from({ length: 101 }, (_, i) => `p${i}`) }],
    [{ id: 'a', prizes: 'Mug' }],
    [{ id: 'a', prizes: ['Mug'], durationSeconds: 0 }],
    [{ id: 'a', prizes: ['Mug'], durationSeconds: 1.5 }],
    [{ id: 'a', prizes: ['Mug'], durationSeconds: '60' }],
    [{ id: 'a', prizes: ['Mug'], durationSeconds: 31 * 24 * 3600 }],
    [{ id: 'A', prizes: ['Mug'] }],
    [{ prizes: ['Mug'] }],
    [{ id: 'a', prizes: ['Mug'], extra: true }],
  ])('refuses %j', (body) => {
    expect(ok(body).success).toBe(false);
  });
});
