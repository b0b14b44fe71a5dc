import { Logger } from '@nestjs/common';
import { LatticeError } from '@lattice/common';
import { ReplyError } from 'ioredis';
import { withRedis } from './redis-failure';

class ThingsUnavailableError extends LatticeError {
  constructor() {
    super('UNAVAILABLE', 'Things are unavailable right now', 503);
  }
}

describe('withRedis', () => {
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => logged.mockRestore());

  it('answers what the work answers', async () => {
    await expect(withRedis(async () => 42)).resolves.toBe(42);
  });

  it('turns a Redis that cannot be reached into the 503, without a line per call', async () => {
    const lost = withRedis(
      async () => {
        throw new Error('Connection is closed.');
      },
      () => new ThingsUnavailableError(),
    );
    await expect(lost).rejects.toBeInstanceOf(ThingsUnavailableError);
    await expect(
      withRedis(async () => {
        throw new Error('Command timed out');
      }),
    ).rejects.toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(logged).not.toHaveBeenCalled();
  });

  it("logs an error Redis answered with, and never passes Redis's text on", async () => {
    const refused = withRedis(async () => {
      throw new ReplyError('ERR Error running script: user_script:3: bad argument');
    });
    await expect(refused).rejects.toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    await expect(refused).rejects.not.toHaveProperty('message', expect.stringContaining('script'));
    expect(logged).toHaveBeenCalledTimes(1);
  });

  it("lets the work's own errors through unchanged", async () => {
    const own = new LatticeError('NOT_FOUND', 'No such thing', 404);
    await expect(
      withRedis(async () => {
        throw own;
      }),
    ).rejects.toBe(own);
    expect(logged).not.toHaveBeenCalled();
  });
});
