import { createPlainClusterConnection } from '@lattice/redis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait';

const SLOTS = 16384;

export interface RedisClusterOptions {
  /** How many masters share the slots (3 unless told; a real cluster needs at least 3). */
  masters?: number;
  /** Replicas per master (0 unless told): with 1, a killed master is replaced by its replica. */
  replicas?: 0 | 1;
  /**
   * cluster-node-timeout (ms): how long a node may stay silent before the
   * others hold it failed and its replica takes over. 1000 with replicas
   * (a quick failover), Redis's default (15000) without.
   */
  nodeTimeoutMs?: number;
}

/** One slot range: its master and, with `replicas: 1`, the replica that would replace it. */
interface Shard {
  master: RedisServer;
  replica: RedisServer | null;
}

/**
 * A private Redis Cluster for one suite: `masters` redis-server processes with
 * `--cluster-enabled yes` on free ports, the 16384 slots split evenly between
 * them, started only once every node says `cluster_state:ok` and knows every
 * other. Without replicas (the default, cheap) it shows that the code runs on
 * a sharded keyspace (CROSSSLOT, MOVED, SCAN on every master, sharded
 * pub/sub); with `replicas: 1` each master has a replica in sync, so a killed
 * master fails over (killMaster, waitForFailover).
 */
export class RedisCluster {
  readonly mode = 'cluster' as const;
  private killed: { shard: Shard; server: RedisServer } | null = null;

  private constructor(
    private readonly shards: Shard[],
    private readonly servers: readonly RedisServer[],
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const count = options.masters ?? 3;
    if (!Number.isInteger(count) || count < 1) throw new RangeError('masters must be at least 1');
    const replicas = options.replicas ?? 0;
    const nodeTimeout = options.nodeTimeoutMs ?? (replicas ? 1000 : undefined);
    const args = [
      '--cluster-enabled',
      'yes',
      // A node knows no address for itself until it meets another; clients need one in CLUSTER SLOTS.
      '--cluster-announce-ip',
      '127.0.0.1',
      ...(nodeTimeout === undefined ? [] : ['--cluster-node-timeout', String(nodeTimeout)]),
    ];
    const started = await Promise.allSettled(
      Array.from({ length: count * (1 + replicas) }, () => RedisServer.start(args)),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      // None left running: a live child process would keep the test run from exiting.
      await Promise.all(servers.map((server) => server.dispose()));
      throw failed.reason;
    }
    const shards = Array.from({ length: count }, (_, i) => ({
      master: servers[i],
      replica: replicas ? servers[count + i] : null,
    }));
    const cluster = new RedisCluster(shards, servers);
    try {
      await cluster.form();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** The masters now, one per slot range (after a failover, the promoted replica in its place). */
  get nodes(): readonly RedisServer[] {
    return this.shards.map((shard) => shard.master);
  }

  /** The replicas that were not promoted, in the order of `nodes` (with `replicas: 1`). */
  get replicas(): readonly RedisServer[] {
    return this.shards.flatMap((shard) => (shard.replica ? [shard.replica] : []));
  }

  /** `host:port` of every live node (masters, then replicas), as REDIS_CLUSTER_NODES takes them. */
  get addresses(): string[] {
    return [...this.nodes, ...this.replicas].map((node) => `127.0.0.1:${node.port}`);
  }

  /** What an app needs to use this cluster. */
  get env(): { REDIS_CLUSTER_NODES: string } {
    return { REDIS_CLUSTER_NODES: this.addresses.join(',') };
  }

  /** A raw cluster-aware connection (no prefix): each command goes to its key's master. */
  client() {
    return createPlainClusterConnection(this.addresses);
  }

  /** Every key matching `pattern`, on every master (SCAN, not KEYS). */
  async keys(pattern: string): Promise<string[]> {
    const found = await Promise.all(this.nodes.map((node) => node.keys(pattern)));
    return found.flat();
  }

  /** How many keys match `pattern` on each master, in the order of `nodes`. */
  async keysPerMaster(pattern: string): Promise<number[]> {
    const found = await Promise.all(this.nodes.map((node) => node.keys(pattern)));
    return found.map((keys) => keys.length);
  }

  /** The master that serves `key`'s slot (or a sharded channel's, for SSUBSCRIBE). */
  async masterOf(key: string): Promise<RedisServer> {
    const raw = this.nodes[0].client();
    try {
      const slot = (await raw.call('CLUSTER', 'KEYSLOT', key)) as number;
      const shards = (await raw.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      const [, , [, port]] = shards.find(([first, last]) => slot >= first && slot <= last)!;
      return this.nodes.find((node) => node.port === port)!;
    } finally {
      raw.disconnect();
    }
  }

  /**
   * Waits until every replica acknowledged every write its master took so far
   * (WAIT): what was written before this call survives a failover.
   */
  async waitForReplication(timeoutMs = 5000): Promise<void> {
    await Promise.all(
      this.shards
        .filter((shard) => shard.replica)
        .map(async ({ master }) => {
          const raw = master.client();
          try {
            const acknowledged = await raw.call('WAIT', '1', String(timeoutMs));
            if (acknowledged !== 1) throw new Error(`The replica of ${master.port} lagged behind`);
          } finally {
            raw.disconnect();
          }
        }),
    );
  }

  /** Kills a master abruptly (SIGKILL), as when its machine fails; its replica is to replace it. */
  async killMaster(master: RedisServer): Promise<RedisServer> {
    const shard = this.shards.find((s) => s.master === master);
    if (!shard?.replica) throw new Error('Only a master with a replica can be killed');
    if (this.killed) throw new Error('One failover at a time: wait for the last one first');
    await master.kill();
    this.killed = { shard, server: master };
    return master;
  }

  /**
   * Waits until the killed master's replica says it is a master, and every
   * live node sees the cluster whole again (`cluster_state:ok`) with the
   * killed master's slots served by the promoted replica; from then on it is
   * in `nodes`, in the killed master's place.
   */
  async waitForFailover(timeoutMs = 30_000): Promise<RedisServer> {
    if (!this.killed) throw new Error('No master was killed');
    const { shard } = this.killed;
    const promoted = shard.replica!;
    const live = [...this.nodes, ...this.replicas].filter((node) => node.running);
    await waitFor(
      'the replica of the killed master to take over its slots',
      async () => {
        const role = (await this.ask(promoted, (raw) => raw.call('ROLE'))) as [string];
        if (role[0] !== 'master') return false;
        const views = await Promise.all(
          live.map((node) =>
            this.ask(node, async (raw) => ({
              info: (await raw.call('CLUSTER', 'INFO')) as string,
              shards: (await raw.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][],
            })),
          ),
        );
        return views.every(
          ({ info, shards }) =>
            info.includes('cluster_state:ok') &&
            shards.some(([, , [, port]]) => port === promoted.port),
        );
      },
      timeoutMs,
      50,
    );
    shard.master = promoted;
    shard.replica = null;
    this.killed = null;
    return promoted;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((node) => node.dispose()));
  }

  /** One question to one node on a connection of its own (none is left open). */
  private async ask<T>(
    node: RedisServer,
    question: (raw: ReturnType<RedisServer['client']>) => Promise<T>,
  ): Promise<T> {
    const raw = node.client();
    raw.on('error', () => undefined);
    try {
      return await question(raw);
    } finally {
      raw.disconnect();
    }
  }

  private async form(): Promise<void> {
    const raws = this.servers.map((node) => node.client());
    const masters = raws.slice(0, this.shards.length);
    try {
      const per = Math.ceil(SLOTS / masters.length);
      await Promise.all(
        masters.map(async (raw, i) => {
          const first = i * per;
          const last = Math.min(SLOTS, (i + 1) * per) - 1;
          // Distinct epochs from the start, so the nodes need not settle a collision.
          await raw.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
          await raw.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
        }),
      );
      for (const node of this.servers.slice(1)) {
        await raws[0].call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
      }
      const agreed = (info: string) =>
        info.includes('cluster_state:ok') &&
        info.includes(`cluster_known_nodes:${raws.length}\r`) &&
        info.includes(`cluster_slots_ok:${SLOTS}\r`);
      await waitFor(
        `a cluster of ${raws.length} nodes to agree`,
        async () => {
          const infos = (await Promise.all(raws.map((r) => r.call('CLUSTER', 'INFO')))) as string[];
          return infos.every(agreed);
        },
        30_000,
        100,
      );
      await this.attachReplicas(raws);
    } finally {
      raws.forEach((raw) => raw.disconnect());
    }
  }

  /** Makes each shard's replica replicate its master, and waits until it is in sync. */
  private async attachReplicas(raws: ReturnType<RedisServer['client']>[]): Promise<void> {
    const shards = this.shards.filter((shard) => shard.replica);
    if (shards.length === 0) return;
    const rawOf = (node: RedisServer) => raws[this.servers.indexOf(node)];
    for (const { master, replica } of shards) {
      const masterId = (await rawOf(master).call('CLUSTER', 'MYID')) as string;
      await rawOf(replica!).call('CLUSTER', 'REPLICATE', masterId);
    }
    await waitFor(
      'every replica to be in sync with its master, and known as such by every node',
      async () => {
        for (const { replica } of shards) {
          const replication = await rawOf(replica!).info('replication');
          if (!replication.includes('master_link_status:up')) return false;
        }
        const views = (await Promise.all(raws.map((r) => r.call('CLUSTER', 'NODES')))) as string[];
        return views.every(
          (view) =>
            view.split('\n').filter((line) => line.split(' ')[2]?.split(',').includes('slave'))
              .length === shards.length,
        );
      },
      30_000,
      100,
    );
  }
}
