import type { Logger } from '@nestjs/common';

/** How long a failed read of shared state waits before it is tried again. */
export const REREAD_DELAY_MS = 1000;

/**
 * For state every instance keeps a copy of and reads from Redis (the route
 * table, rate-limit overrides): after a failed read, the copy in use stays
 * and the read is tried again shortly. One failed read is a blip (a node
 * connection still being made at start-up) and is only a debug line; a
 * failure that lasts is a warning.
 */
export class RereadSchedule {
  /** Reads failed in a row. */
  private failures = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly logger: Logger,
    /** What is read, as the start of a sentence: "The route table". */
    private readonly what: string,
    private readonly read: () => void,
  ) {}

  /** The read failed: say so when it lasts, and read again in REREAD_DELAY_MS. */
  failed(error: Error): void {
    this.failures++;
    const message = `${this.what} could not be read (${error.message})`;
    if (this.failures > 1) this.logger.warn(message);
    else this.logger.debug(`${message}; reading again in ${REREAD_DELAY_MS} ms`);
    clearTimeout(this.timer);
    this.timer = setTimeout(this.read, REREAD_DELAY_MS).unref();
  }

  succeeded(): void {
    this.failures = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
