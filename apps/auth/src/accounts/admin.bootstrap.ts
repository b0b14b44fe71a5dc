import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { LockService } from '@lattice/lock';
import { RedisService } from '@lattice/redis';
import { AccountsService } from './accounts.service';

/** How long start-up waits for Redis before creating the admin in the background. */
const STARTUP_WAIT_MS = 5_000;
const RETRY_MS = 2_000;
const RUN_ONCE_DONE_TTL_MS = 30_000;

/**
 * With ADMIN_LOGIN/ADMIN_PASSWORD set, makes sure exactly one admin account
 * with those credentials exists, however many instances start at once: the
 * work runs once across instances (run-once of the lock lib) and is itself
 * idempotent (registration under the login lock).
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly accounts: AccountsService,
    private readonly locks: LockService,
    private readonly redis: RedisService,
    private readonly config: ConfigService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.get('admin');
    if (!admin) return;
    const run = () =>
      this.locks.runOnce(
        'admin-bootstrap',
        async () => {
          await this.accounts.ensureAdmin(admin.login, admin.password);
        },
        // Instances starting together skip it once done; a restart later applies a changed password.
        { doneTtlMs: RUN_ONCE_DONE_TTL_MS },
      );
    if (
      (await this.redis.whenReady(STARTUP_WAIT_MS)) &&
      (await run().then(
        () => true,
        () => false,
      ))
    ) {
      return;
    }
    this.logger.warn('Redis is not reachable yet; the admin account will be created once it is');
    const retry = (): void => {
      setTimeout(() => {
        run().then(
          () => this.logger.log('Admin account ready'),
          () => retry(),
        );
      }, RETRY_MS).unref();
    };
    retry();
  }
}
