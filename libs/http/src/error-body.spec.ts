import { toErrorBody } from './error-body';

describe('toErrorBody for Redis failures', () => {
  it.each([
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Connection is closed.',
    "READONLY You can't write against a read only replica.",
  ])('answers "%s" (Redis unreachable or failing over) with 503 UNAVAILABLE', (message) => {
    const { body, internal } = toErrorBody(new Error(message), 'req-1');
    expect(body).toEqual({
      statusCode: 503,
      code: 'UNAVAILABLE',
      message: expect.not.stringContaining(message),
      requestId: 'req-1',
    });
    expect(internal).toBe(false);
  });

  it('keeps any other Redis error a 500 that is logged, revealing nothing', () => {
    const { body, internal } = toErrorBody(
      new Error("CROSSSLOT Keys in request don't hash to the same slot"),
      'req-2',
    );
    expect(body).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
    expect(body.message).not.toMatch(/CROSSSLOT/);
    expect(internal).toBe(true);
  });
});
