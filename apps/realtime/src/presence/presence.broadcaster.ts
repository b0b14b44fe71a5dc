import { Injectable } from '@nestjs/common';

/**
 * The Socket.IO server's Redis bus as the presence service sees it. Channel messages and
 * presence changes are both emitted by their Lua scripts (PresenceStore), on
 * the bus, so that they take the channel's offsets in one order.
 */
@Injectable()
export class PresenceBroadcaster {
  private busUp: () => boolean = () => false;
  private roomReadiness: (room: string) => Promise<void> = () => Promise.resolve();

  attach(bus: { isUp(): boolean; roomReady(room: string): Promise<void> }): void {
    this.busUp = () => bus.isUp();
    this.roomReadiness = (room) => bus.roomReady(room);
  }

  /** Resolves once this instance hears what is published to `room` (see SocketBus.roomReady). */
  roomReady(room: string): Promise<void> {
    return this.roomReadiness(room);
  }

  /** Whether a broadcast now reaches the other instances too. */
  isBusUp(): boolean {
    return this.busUp();
  }
}
