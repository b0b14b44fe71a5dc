import { Injectable } from '@nestjs/common';

/**
 * Whether the Socket.IO server's Redis bus is up. Channel messages and
 * presence changes are both emitted by their Lua scripts (PresenceStore), on
 * the bus, so that they take the channel's offsets in one order.
 */
@Injectable()
export class PresenceBroadcaster {
  private busUp: () => boolean = () => false;

  attach(isBusUp: () => boolean): void {
    this.busUp = isBusUp;
  }

  /** Whether a broadcast now reaches the other instances too. */
  isBusUp(): boolean {
    return this.busUp();
  }
}
