import { toErrorBody } from './error-body';

describe('toErrorBody for Redis failures', () => {
  it.each([
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Connection is closed.',
    "READONLY You can't write against a read only replica.",
    'LOADING Redis is loading the dataset in memory',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    "OOM command not allowed when used memory > 'maxmemory'.",
    'EXECABORT Transaction discarded because of previous errors.',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'NOREPLICAS Not enough good replicas to write.',
  ])(
    'answers "%s" (Redis unreachable, failing over or refusing work) with 503 UNAVAILABLE',
    (message) => {
      const { body, internal } = toErrorBody(new Error(message), 'req-1');
      expect(body).toEqual({
        statusCode: 503,
        code: 'UNAVAILABLE',
        message: expect.not.stringContaining(message),
        requestId: 'req-1',
      });
      expect(internal).toBe(false);
    },
  );

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

describe('toErrorBody for what Fastify refuses before routing', () => {
  const fastifyError = (code: string) => Object.assign(new Error(`${code} internals`), { code });

  it.each([
    ['FST_ERR_BAD_URL', 400, 'BAD_REQUEST'],
    ['FST_ERR_MAX_PARAM_LENGTH', 414, 'URI_TOO_LONG'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'MALFORMED_JSON'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
  ])('answers %s with %i %s, naming no internals', (fstCode, status, code) => {
    const { body, internal } = toErrorBody(fastifyError(fstCode), 'req-3');
    expect(body).toEqual({
      statusCode: status,
      code,
      message: expect.any(String),
      requestId: 'req-3',
    });
    expect(body.message).not.toMatch(/FST_|internals/);
    expect(internal).toBe(false);
  });
});
