import { Module } from '@nestjs/common';
import { RedisModule } from '@lattice/redis';
import { LockService } from './lock.service';
import { LockWakeups } from './lock.wakeups';

/**
 * LockService for the modules that import this one (and @WithLock on their
 * providers). Locks run on RedisModule's connections (or LOCK_QUORUM_URLS,
 * from ConfigService); LockWakeups is a provider so a test can replace how
 * waiters are woken.
 */
@Module({
  imports: [RedisModule],
  providers: [LockWakeups, LockService],
  exports: [LockService],
})
export class LockModule {}
