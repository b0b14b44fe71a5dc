import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LockService } from '@lattice/lock';
import { REDIS_STARTUP_WAIT_MS, RedisService } from '@lattice/redis';
import { ADMIN_ROLE, LOGIN_LOCK_TTL_MS, loginLockResource } from './account.keys';
import { AccountsRepository } from './accounts.repository';
import { UserDirectoryRepository } from './user-directory.repository';

const RETRY_MS = 2_000;
/** How often the leader checks that the directory is still built (Redis may lose it). */
export const DIRECTORY_CHECK_INTERVAL_MS = 5_000;
const DIRECTORY_CHECK_LEASE_MS = 10_000;
/** Long enough for a large `users:`; another instance takes over if the runner dies. */
const BACKFILL_LEASE_MS = 60_000;

/**
 * Puts the accounts that existed before the user directory into it, once:
 * walks `users:` (HSCAN, never on a request path) and lists each account
 * still there under its login lock (so that a deletion running meanwhile is
 * not undone), counting its admins; then sets `{users}:indexed`, which the
 * directory's guarded changes wait for. Registrations and deletions keep
 * the directory up to date from then on. One instance runs it (run-once);
 * if Redis loses the marker with the rest, the instance that leads
 * `user-directory` notices within DIRECTORY_CHECK_INTERVAL_MS and runs it
 * again (meanwhile guarded changes answer 503).
 */
@Injectable()
export class UserDirectoryBackfill implements OnApplicationBootstrap {
  private readonly logger = new Logger('UserDirectory');

  constructor(
    private readonly directory: UserDirectoryRepository,
    private readonly accounts: AccountsRepository,
    private readonly locks: LockService,
    private readonly redis: RedisService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.locks.lead(
      'user-directory',
      DIRECTORY_CHECK_LEASE_MS,
      async () => {
        await this.tryRun();
      },
      { everyMs: DIRECTORY_CHECK_INTERVAL_MS },
    );
    if ((await this.redis.whenReady(REDIS_STARTUP_WAIT_MS)) && (await this.tryRun())) return;
    const retry = (): void => {
      setTimeout(() => {
        void this.tryRun().then((done) => (done ? undefined : retry()));
      }, RETRY_MS).unref();
    };
    retry();
  }

  /** Runs it if needed; false when it could not (Redis unreachable), to be tried again. */
  async tryRun(): Promise<boolean> {
    try {
      if (await this.directory.isIndexed()) return true;
      await this.locks.runOnce('user-directory-backfill', () => this.backfill(), {
        leaseTtlMs: BACKFILL_LEASE_MS,
      });
      return true;
    } catch (error) {
      this.logger.warn(`User directory not built yet: ${(error as Error).message}`);
      return false;
    }
  }

  private async backfill(): Promise<void> {
    if (await this.directory.isIndexed()) return;
    let listed = 0;
    for await (const batch of this.directory.allLogins()) {
      for (const [login, id] of batch) {
        await this.locks.using([loginLockResource(login)], LOGIN_LOCK_TTL_MS, async () => {
          const account = await this.accounts.account(id);
          if (account?.profile.login.toLowerCase() !== login) return;
          await this.directory.add(login, id, account.profile.roles.includes(ADMIN_ROLE));
          listed += 1;
        });
      }
    }
    await this.directory.markIndexed();
    if (listed) this.logger.log(`User directory built: ${listed} existing accounts listed`);
  }
}
