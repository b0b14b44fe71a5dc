import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { roomOf } from '@lattice/presence';
import type { ChannelMessage } from './presence-events';

/**
 * Sends channel messages to a channel's connections on every realtime
 * instance, through the Socket.IO Redis adapter, leaving out the sender (its
 * acknowledgement told it). Presence changes are announced by the presence
 * scripts themselves, on the same bus.
 */
@Injectable()
export class PresenceBroadcaster {
  private server?: Server;
  private busUp: () => boolean = () => false;

  attach(server: Server, isBusUp: () => boolean): void {
    this.server = server;
    this.busUp = isBusUp;
  }

  /** Whether a broadcast now reaches the other instances too. */
  isBusUp(): boolean {
    return this.busUp();
  }

  message(message: ChannelMessage, exceptSocketId: string): void {
    this.server
      ?.to(roomOf(message.channel))
      .except(exceptSocketId)
      .emit('channel:message', message);
  }
}
