import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@lattice/config';
import { LockService } from '@lattice/lock';
import { REDIS_STARTUP_WAIT_MS, RedisService } from '@lattice/redis';
import { AccountsService } from './accounts.service';

const RETRY_MS = 2_000;
const RUN_ONCE_DONE_TTL_MS = 30_000;
/** How often the leader checks that the admin account still exists (Redis may lose it). */
export const ADMIN_CHECK_INTERVAL_MS = 5_000;
const ADMIN_CHECK_LEASE_MS = 10_000;

/**
 * With ADMIN_LOGIN/ADMIN_PASSWORD set, makes sure exactly one admin account
 * with those credentials exists, however many instances run: at start-up
 * (run-once of the lock lib), every ADMIN_CHECK_INTERVAL_MS on the one
 * instance that leads `admin-account`, and before a login as ADMIN_LOGIN
 * when the account is missing, so that it comes back soon after Redis lost
 * it. The work itself is idempotent (registration under the login lock,
 * the login claimed with HSETNX), so overlapping runs still make one account.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');
  private readonly admin: { login: string; password: string } | null;

  constructor(
    private readonly accounts: AccountsService,
    private readonly locks: LockService,
    private readonly redis: RedisService,
    config: ConfigService,
  ) {
    this.admin = config.get('admin');
  }

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.admin;
    if (!admin) return;
    this.locks.lead('admin-account', ADMIN_CHECK_LEASE_MS, () => this.restoreIfMissing(), {
      everyMs: ADMIN_CHECK_INTERVAL_MS,
    });
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
      (await this.redis.whenReady(REDIS_STARTUP_WAIT_MS)) &&
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

  /** Before a login attempt: an attempt as ADMIN_LOGIN recreates the admin account if it is missing. */
  async restoreBeforeLogin(login: string): Promise<void> {
    if (this.admin && login.toLowerCase() === this.admin.login.toLowerCase()) {
      await this.restoreIfMissing();
    }
  }

  private async restoreIfMissing(): Promise<void> {
    const admin = this.admin;
    if (!admin || (await this.accounts.accountOfLogin(admin.login.toLowerCase()))) return;
    this.logger.warn(
      'The admin account (ADMIN_LOGIN) is missing, Redis may have lost its data: creating it again',
    );
    await this.accounts.ensureAdmin(admin.login, admin.password);
  }
}
