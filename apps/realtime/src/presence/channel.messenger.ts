import { Injectable, Logger } from '@nestjs/common';
import { NotAMemberError, PresenceStore } from '@lattice/presence';
import { RateLimitService } from '@lattice/rate-limit';
import { ConnectionRegistry } from './connection.registry';
import { answer, parsePayload } from './presence-ack';
import {
  historyPayload,
  MAX_HISTORY_LIMIT,
  messagePayload,
  type Ack,
  type ChannelMessage,
} from './presence-events';
import { PresenceBroadcaster } from './presence.broadcaster';
import { PresenceService } from './presence.service';
import { RealtimeUnavailableError } from './realtime.errors';

const CHANNEL_MESSAGE: readonly string[] = ['channel-message'];

/**
 * What the channel events do (`channel:message`, `channel:history`), for
 * members of the channel only. A message is kept and announced to the
 * channel by one script (PresenceStore), which gives it the channel's next
 * offset. No event ever throws, as PresenceService's.
 */
@Injectable()
export class ChannelMessenger {
  private readonly logger = new Logger('Presence');

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly store: PresenceStore,
    private readonly broadcaster: PresenceBroadcaster,
    private readonly limiter: RateLimitService,
    private readonly presence: PresenceService,
  ) {}

  message(socketId: string, payload: unknown): Promise<Ack> {
    return answer(this.registry.get(socketId), this.logger, async (connection) => {
      const { channel, data } = parsePayload(messagePayload, payload);
      // On the queue, so a message sent right after a join finds the join done, and messages keep their order.
      return connection.serial(async () => {
        if (!connection.channels.has(channel)) throw new NotAMemberError(channel);
        await this.limiter.enforce(CHANNEL_MESSAGE, { user: { id: connection.user.userId } });
        if (this.presence.isClosing || !this.broadcaster.isBusUp()) {
          throw new RealtimeUnavailableError();
        }
        const { userId, login } = connection.user;
        await this.store.message(
          { channel, from: { userId, login }, data, sentAt: new Date().toISOString() },
          connection.id,
        );
        return { ok: true };
      });
    });
  }

  /** A member's look at the channel's kept messages. */
  history(socketId: string, payload: unknown): Promise<Ack> {
    return answer(this.registry.get(socketId), this.logger, async (connection) => {
      const { channel, since, limit } = parsePayload(historyPayload, payload);
      if (!connection.channels.has(channel)) throw new NotAMemberError(channel);
      const messages = await this.store.messages<ChannelMessage>(
        channel,
        limit ?? MAX_HISTORY_LIMIT,
        since,
      );
      return { ok: true, messages };
    });
  }
}
