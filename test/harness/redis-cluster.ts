import { createPlainClusterConnection } from '@lattice/redis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait';

const SLOTS = 16384;

export interface RedisClusterOptions {
  /** How many masters share the slots (3 unless told; a real cluster needs at least 3). */
  masters?: number;
}

/**
 * A private Redis Cluster for one suite: `masters` redis-server processes with
 * `--cluster-enabled yes` on free ports, the 16384 slots split evenly between
 * them, started only once every node says `cluster_state:ok` and knows every
 * other. No replicas: it is there to show that the code runs on a sharded
 * keyspace (CROSSSLOT, MOVED, SCAN on every master, sharded pub/sub), not to
 * fail over.
 */
export class RedisCluster {
  readonly mode = 'cluster' as const;

  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const count = options.masters ?? 3;
    if (!Number.isInteger(count) || count < 1) throw new RangeError('masters must be at least 1');
    const nodes = await Promise.all(
      Array.from({ length: count }, () =>
        // A node knows no address for itself until it meets another; clients need one in CLUSTER SLOTS.
        RedisServer.start(['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1']),
      ),
    );
    const cluster = new RedisCluster(nodes);
    try {
      await cluster.form();
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  get addresses(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
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

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }

  private async form(): Promise<void> {
    const raws = this.nodes.map((node) => node.client());
    try {
      const per = Math.ceil(SLOTS / raws.length);
      await Promise.all(
        raws.map(async (raw, i) => {
          const first = i * per;
          const last = Math.min(SLOTS, (i + 1) * per) - 1;
          // Distinct epochs from the start, so the nodes need not settle a collision.
          await raw.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
          await raw.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
        }),
      );
      for (const node of this.nodes.slice(1)) {
        await raws[0].call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
      }
      await waitFor(
        `a cluster of ${raws.length} masters to agree`,
        async () => {
          const infos = (await Promise.all(raws.map((r) => r.call('CLUSTER', 'INFO')))) as string[];
          return infos.every(
            (info) =>
              info.includes('cluster_state:ok') &&
              info.includes(`cluster_known_nodes:${raws.length}\r`) &&
              info.includes(`cluster_slots_ok:${SLOTS}\r`),
          );
        },
        30_000,
        100,
      );
    } finally {
      raws.forEach((raw) => raw.disconnect());
    }
  }
}
