import { createPlainConnection } from '@lattice/redis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait';

export interface SentinelGroupOptions {
  /** After how long without an answer a Sentinel holds the master down (ms). */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (ms): bounds one failover, and the pause before another. */
  failoverTimeoutMs?: number;
}

type Raw = ReturnType<typeof createPlainConnection>;

/** Reads a `SENTINEL MASTER`-style flat reply into an object. */
function fields(reply: unknown): Record<string, string> {
  const flat = reply as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

async function ask<T>(port: number, question: (raw: Raw) => Promise<T>): Promise<T> {
  const raw = createPlainConnection(`redis://127.0.0.1:${port}`);
  raw.on('error', () => undefined);
  try {
    return await question(raw);
  } finally {
    raw.disconnect();
  }
}

/**
 * A private Sentinel deployment for one suite: a master, one replica of it and
 * three Sentinels (quorum 2) on free ports, each Sentinel with its config file
 * in its own temporary directory. The Sentinels hold the master down after
 * `downAfterMs` (1500 by default) without an answer, so a killed master is
 * replaced by its replica within a few seconds. Ready once every Sentinel
 * knows the replica and the two other Sentinels, and the replica is in sync.
 */
export class SentinelGroup {
  static readonly MASTER_NAME = 'lattice';

  private current: RedisServer;
  private standby: RedisServer | null;
  private killed: RedisServer | null = null;
  private readonly servers: RedisServer[];

  private constructor(
    master: RedisServer,
    replica: RedisServer,
    readonly sentinels: readonly RedisServer[],
  ) {
    this.current = master;
    this.standby = replica;
    this.servers = [master, replica, ...sentinels];
  }

  static async start(options: SentinelGroupOptions = {}): Promise<SentinelGroup> {
    const downAfter = options.downAfterMs ?? 1500;
    const failoverTimeout = options.failoverTimeoutMs ?? 5000;
    const master = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const name = SentinelGroup.MASTER_NAME;
    const sentinels = await Promise.all(
      [1, 2, 3].map(() =>
        RedisServer.startSentinel(() => [
          `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfter}`,
          `sentinel failover-timeout ${name} ${failoverTimeout}`,
          `sentinel parallel-syncs ${name} 1`,
        ]),
      ),
    );
    const group = new SentinelGroup(master, replica, sentinels);
    try {
      await group.settle();
    } catch (error) {
      await group.dispose();
      throw error;
    }
    return group;
  }

  /** What an app needs to use this deployment. */
  get env(): { REDIS_SENTINELS: string; REDIS_SENTINEL_NAME: string } {
    return {
      REDIS_SENTINELS: this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: SentinelGroup.MASTER_NAME,
    };
  }

  /** The server that is master now (the replica, after a failover). */
  get master(): RedisServer {
    return this.current;
  }

  /** The replica, until it was promoted. */
  get replica(): RedisServer | null {
    return this.standby;
  }

  /** A raw connection (no prefix) to the current master. */
  client(): Raw {
    return this.current.client();
  }

  /**
   * Waits until the replica acknowledged every write the master took so far
   * (WAIT): what was written before this call survives a failover.
   */
  async waitForReplication(timeoutMs = 5000): Promise<void> {
    const acknowledged = await ask(this.current.port, (raw) =>
      raw.call('WAIT', '1', String(timeoutMs)),
    );
    if (acknowledged !== 1) throw new Error('The replica did not acknowledge the writes in time');
  }

  /** Kills the master abruptly (SIGKILL), as when its machine fails. */
  async killMaster(): Promise<RedisServer> {
    await this.current.kill();
    this.killed = this.current;
    return this.current;
  }

  /**
   * Starts the killed master again, empty, on its port: the Sentinels turn it
   * into a replica of the new master. Resolves once it is in sync.
   */
  async reviveKilled(): Promise<RedisServer> {
    const revived = this.killed;
    if (!revived || this.standby) throw new Error('Only a killed master can be revived');
    await revived.restart();
    this.killed = null;
    this.standby = revived;
    await this.settle();
    return revived;
  }

  /**
   * A planned switchover (SENTINEL FAILOVER, as in maintenance): the replica
   * is promoted while the master stays up; resolves once the old master is a
   * replica of the new one, in sync (it answers writes with READONLY then).
   */
  async switchover(timeoutMs = 30_000): Promise<RedisServer> {
    const old = this.current;
    await ask(this.sentinels[0].port, (raw) =>
      raw.call('SENTINEL', 'FAILOVER', SentinelGroup.MASTER_NAME),
    );
    const promoted = await this.waitForFailover(timeoutMs);
    // The Sentinels demote the old master once they see it still claims the role (INFO, up to 10 s).
    this.standby = old;
    await this.settle();
    return promoted;
  }

  /**
   * Waits until every Sentinel names the replica as the master and the
   * replica says it is one; from then on `master` is the promoted replica.
   */
  async waitForFailover(timeoutMs = 30_000): Promise<RedisServer> {
    const promoted = this.standby;
    if (!promoted) throw new Error('There is no replica left to fail over to');
    await waitFor(
      'the Sentinels to promote the replica',
      async () => {
        const named = await Promise.all(
          this.sentinels.map((s) =>
            ask(s.port, (raw) =>
              raw.call('SENTINEL', 'get-master-addr-by-name', SentinelGroup.MASTER_NAME),
            ),
          ),
        );
        if (!named.every((addr) => (addr as string[])[1] === String(promoted.port))) return false;
        const role = (await ask(promoted.port, (raw) => raw.call('ROLE'))) as [string];
        return role[0] === 'master';
      },
      timeoutMs,
      100,
    );
    this.current = promoted;
    this.standby = null;
    return promoted;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.dispose()));
  }

  /**
   * Waits until the replica is in sync with the master and every Sentinel
   * knows the master (up), the two other Sentinels, and the replica (up, its
   * link to the master up): from then on a failover can happen.
   */
  private async settle(): Promise<void> {
    const name = SentinelGroup.MASTER_NAME;
    const replica = this.standby!;
    await waitFor(
      'the replica to be in sync and every Sentinel to know the replica and the other Sentinels',
      async () => {
        const replication = (await ask(replica.port, (raw) => raw.info('replication'))) as string;
        if (!replication.includes('master_link_status:up')) return false;
        const views = await Promise.all(
          this.sentinels.map((s) =>
            ask(s.port, async (raw) => ({
              master: fields(await raw.call('SENTINEL', 'MASTER', name)),
              replicas: ((await raw.call('SENTINEL', 'REPLICAS', name)) as unknown[]).map(fields),
            })),
          ),
        );
        return views.every(
          ({ master, replicas }) =>
            master.flags === 'master' &&
            Number(master.port) === this.current.port &&
            Number(master['num-other-sentinels']) === 2 &&
            replicas.some(
              (r) =>
                Number(r.port) === replica.port &&
                r.flags === 'slave' &&
                r['master-link-status'] === 'ok',
            ),
        );
      },
      30_000,
      100,
    );
  }
}
