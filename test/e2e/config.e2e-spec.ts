import { AppProcess } from '@lattice/testing';

describe('start-up configuration errors', () => {
  it.each([
    ['PORT', 'abc', /PORT: must be an integer from 1 to 65535/],
    ['REDIS_URL', 'ftp://x', /REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//],
    ['RATE_LIMIT_IP', 'ten', /RATE_LIMIT_IP: must be "limit\/windowSeconds"/],
  ])('%s=%s makes the app exit non-zero with one clear line', async (variable, value, line) => {
    const { code, output } = await AppProcess.runToExit('gateway', { [variable]: value });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(output).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('lists every bad variable, one line each', async () => {
    const { code, output } = await AppProcess.runToExit('auth', {
      PORT: 'abc',
      RATE_LIMIT_FAIL: 'sometimes',
      ADMIN_LOGIN: 'root',
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n').sort()).toEqual(
      [
        'auth: invalid environment: ADMIN_PASSWORD: must be set together with the other of ADMIN_LOGIN and ADMIN_PASSWORD',
        'auth: invalid environment: PORT: must be an integer from 1 to 65535',
        'auth: invalid environment: RATE_LIMIT_FAIL: must be one of open, closed',
      ].sort(),
    );
  });
});
