import { Injectable } from '@nestjs/common';

/** Set once a shutdown signal arrives; readiness answers 503 from then on. */
@Injectable()
export class ShutdownState {
  private since: number | null = null;

  begin(): void {
    this.since ??= Date.now();
  }

  get isShuttingDown(): boolean {
    return this.since !== null;
  }
}
