import { Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import {
  NotAMemberError,
  PresenceLeases,
  PresenceStore,
  PresenceUnavailableError,
  type PresenceConnection,
  type PresenceMember,
  type PresenceMeta,
} from '@lattice/presence';
import { ConnectionRegistry } from './connection.registry';
import { PresenceWorker } from './presence.worker';
import type { Membership, RealtimeConnection } from './realtime.connection';

/** Channels whose keys are refreshed side by side. */
const REFRESH_PARALLEL = 32;

/**
 * This worker's memberships: which of its connections are in which channel,
 * both in memory (ConnectionRegistry) and in Redis, where each is recorded
 * under the worker's lease. Every record follows one protocol: the worker id
 * is taken only while the lease is fresh, the channel is in that id's index
 * before the connection is recorded in it, and the membership remembers the
 * id it was recorded under. After each renewal of the lease it retries the
 * leaves Redis did not take, records again what an older (lapsed) id held,
 * and keeps the keys it relies on alive.
 */
@Injectable()
export class MembershipLedger {
  private readonly logger = new Logger('Presence');
  /** Channels recorded in this worker id's index (the SADD may still be in flight). */
  private readonly indexed = new Map<string, Promise<void>>();
  /** Leaves that failed (Redis unreachable), retried after each renewal. */
  private readonly pendingLeaves = new Map<string, PresenceConnection & { onlyIfHeld: boolean }>();
  private reconcileNeeded = false;
  private lastRefresh = -Infinity;
  private maintaining?: Promise<void>;
  private closed = false;

  constructor(
    private readonly worker: PresenceWorker,
    private readonly leases: PresenceLeases,
    private readonly store: PresenceStore,
    private readonly registry: ConnectionRegistry,
  ) {
    worker.on('renewed', (workerId) => this.maintain(workerId));
    worker.on('lapsed', (previous, current) => {
      this.indexed.clear();
      this.pendingLeaves.clear();
      this.reconcileNeeded = true;
      this.logger.warn(
        `Lease of presence worker ${previous} lapsed; recording ${this.registry.size} connections again as ${current}`,
      );
    });
  }

  /**
   * The worker id a new record of the connection in `channel` goes under, once
   * the lease is fresh (UNAVAILABLE when it cannot be). An older failed leave
   * of the connection in the channel is dropped: the new record supersedes it.
   */
  async writableId(connection: RealtimeConnection, channel: string): Promise<string> {
    const workerId = await this.worker.writableId();
    this.pendingLeaves.delete(leaveKey(channel, connection.id));
    return workerId;
  }

  /**
   * A join: the connection is in `channel` here at once (so this worker keeps
   * it alive and re-records it), then in Redis under `workerId` (from
   * writableId), with `meta` or the meta it has. When Redis refuses, the
   * membership is back as it was before.
   */
  async enter(
    connection: RealtimeConnection,
    channel: string,
    workerId: string,
    meta: PresenceMeta | null,
  ): Promise<{ members: PresenceMember[]; offset: string }> {
    const existing = connection.channels.get(channel);
    this.registry.enter(connection, channel, { meta: meta ?? existing?.meta ?? null, workerId });
    try {
      return await this.record(connection, channel, workerId, meta, { withMembers: true });
    } catch (error) {
      if (existing) {
        this.registry.enter(connection, channel, existing);
      } else {
        this.registry.exit(connection, channel);
        this.releaseChannel(channel, workerId);
      }
      throw error;
    }
  }

  /**
   * A recovered connection's membership: known here at once, as recorded
   * under the current id, until `rerecord` records it so in Redis.
   */
  adopt(connection: RealtimeConnection, channel: string, meta: PresenceMeta | null): void {
    this.registry.enter(connection, channel, { meta, workerId: this.worker.id });
  }

  /**
   * Records a membership the connection has here again under the current id,
   * kept as it was (nobody sees it leave or join): for a recovered connection,
   * and for memberships recorded under a lapsed id.
   */
  async rerecord(connection: RealtimeConnection, channel: string): Promise<void> {
    const membership = connection.channels.get(channel);
    if (!membership) return;
    const workerId = await this.writableId(connection, channel);
    await this.record(connection, channel, workerId, membership.meta, { restore: true });
  }

  /** Sets a member's meta; NOT_A_MEMBER when it is not in `channel`. */
  async update(connection: RealtimeConnection, channel: string, meta: PresenceMeta): Promise<void> {
    const membership = connection.channels.get(channel);
    if (!membership) throw new NotAMemberError(channel);
    const workerId = await this.worker.writableId();
    try {
      await this.store.update(connection.in(channel, membership.workerId), meta);
    } catch (error) {
      if (!(error instanceof NotAMemberError)) throw error;
      // Redis lost this connection (a restart, or reaped during a long pause): record it again.
      await this.record(connection, channel, workerId, meta);
    }
    membership.meta = meta;
  }

  /** The connection leaves `channel` here at once; returns what it was, or undefined. */
  exit(connection: RealtimeConnection, channel: string): Membership | undefined {
    return this.registry.exit(connection, channel);
  }

  /**
   * Removes a membership from Redis; retried after the next renewal when Redis
   * does not answer. `onlyIfHeld`: not when another worker holds it now (a
   * recovered connection that came back elsewhere).
   */
  async remove(
    connection: RealtimeConnection,
    channel: string,
    membership: Membership,
    onlyIfHeld = false,
  ): Promise<void> {
    const record = connection.in(channel, membership.workerId);
    try {
      await this.store.leave(record, { onlyIfHeld });
      this.releaseChannel(channel, membership.workerId);
    } catch {
      this.pendingLeaves.set(leaveKey(channel, connection.id), { ...record, onlyIfHeld });
    }
  }

  /** Removes every membership of a connection that is gone from this worker. */
  async removeAll(connection: RealtimeConnection, onlyIfHeld = false): Promise<void> {
    for (const [channel, membership] of connection.channels) {
      await this.remove(connection, channel, membership, onlyIfHeld);
    }
    connection.channels.clear();
  }

  /**
   * On a graceful shutdown: stops the lease and the work after its renewals,
   * then removes every connection of this worker from Redis at once
   * (announcing the changes) and gives up the lease.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.worker.stop();
    await Promise.allSettled([this.maintaining]);
    await this.worker.release();
  }

  /** The one way a membership is written: indexed, recorded, and remembered under `workerId`. */
  private async record(
    connection: RealtimeConnection,
    channel: string,
    workerId: string,
    meta: PresenceMeta | null,
    options: { withMembers?: boolean; restore?: boolean } = {},
  ): Promise<{ members: PresenceMember[]; offset: string }> {
    await this.ensureIndexed(channel, workerId);
    const { members, offset } = await this.store.join(
      connection.in(channel, workerId),
      meta,
      options,
    );
    const membership = connection.channels.get(channel);
    if (membership) membership.workerId = workerId;
    // The lease lapsed meanwhile: what was just recorded is under the old id.
    if (workerId !== this.worker.id) this.reconcileNeeded = true;
    return { members, offset };
  }

  /** Records `channel` in the worker's index before a connection is recorded there. */
  private ensureIndexed(channel: string, workerId: string): Promise<void> {
    if (workerId !== this.worker.id) return this.leases.indexChannel(workerId, channel);
    let pending = this.indexed.get(channel);
    if (!pending) {
      const started = this.leases.indexChannel(workerId, channel);
      pending = started;
      this.indexed.set(channel, started);
      started.catch(() => {
        if (this.indexed.get(channel) === started) this.indexed.delete(channel);
      });
    }
    return pending;
  }

  /**
   * Drops `channel` from the index once no connection of this worker is in
   * it. Decided synchronously, and sent on the same connection as any later
   * SADD, so a join that follows always finds its channel indexed.
   */
  private releaseChannel(channel: string, workerId: string): void {
    if (workerId !== this.worker.id || this.registry.isUsed(channel)) return;
    if (!this.indexed.delete(channel)) return;
    // A channel left in the index only costs a reaper one empty look.
    this.leases.unindexChannel(workerId, channel).catch(() => undefined);
  }

  /** Work after a renewal that writes must not wait for. */
  private maintain(workerId: string): void {
    if (this.maintaining || this.closed) return;
    this.maintaining = this.runMaintenance(workerId)
      .catch((error: unknown) => {
        if (!(error instanceof PresenceUnavailableError)) {
          this.logger.error({ err: error }, 'Presence maintenance failed');
        }
      })
      .finally(() => (this.maintaining = undefined));
  }

  private async runMaintenance(workerId: string): Promise<void> {
    for (const [key, connection] of this.pendingLeaves) {
      this.pendingLeaves.delete(key);
      // Leaves under an older id are the reapers' work now.
      if (connection.workerId !== workerId) continue;
      try {
        await this.store.leave(connection, { onlyIfHeld: connection.onlyIfHeld });
        this.releaseChannel(connection.channel, workerId);
      } catch {
        this.pendingLeaves.set(key, connection);
        return;
      }
    }
    if (this.reconcileNeeded) {
      this.reconcileNeeded = false;
      try {
        await this.reconcile(workerId);
      } catch (error) {
        this.reconcileNeeded = true;
        throw error;
      }
    }
    if (performance.now() - this.lastRefresh >= this.worker.timings.refreshEveryMs) {
      await this.refresh(workerId);
    }
  }

  /** Records again under `workerId` every membership recorded under another id. */
  private async reconcile(workerId: string): Promise<void> {
    const restores: Promise<unknown>[] = [];
    for (const connection of this.registry.all()) {
      for (const [channel, membership] of connection.channels) {
        if (membership.workerId === workerId) continue;
        restores.push(connection.serial(() => this.restore(connection, channel)));
      }
    }
    const results = await Promise.allSettled(restores);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async restore(connection: RealtimeConnection, channel: string): Promise<void> {
    const membership = connection.channels.get(channel);
    if (!membership || membership.workerId === this.worker.id || this.closed) return;
    const workerId = await this.worker.writableId();
    await this.record(connection, channel, workerId, membership.meta, { restore: true });
  }

  /** Pushes the TTLs of every key this worker relies on forward. */
  private async refresh(workerId: string): Promise<void> {
    const started = performance.now();
    await this.leases.touchIndex(workerId);
    const channels = this.registry.channels();
    for (let i = 0; i < channels.length; i += REFRESH_PARALLEL) {
      await Promise.all(
        channels
          .slice(i, i + REFRESH_PARALLEL)
          .map((channel) => this.store.touch(channel, workerId)),
      );
    }
    this.lastRefresh = started;
  }
}

const leaveKey = (channel: string, connectionId: string): string => `${channel}\n${connectionId}`;
