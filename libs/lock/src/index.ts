export { LockModule } from './lock.module';
export { LockService } from './lock.service';
export { Lock } from './lock.handle';
export { SlotLock } from './slot.lock';
export { Leadership } from './leader.election';
export { WithLock } from './with-lock.decorator';
export type { WithLockOptions } from './with-lock.decorator';
export { currentLock } from './lock.context';
export type { LockScope } from './lock.context';
export {
  LockNotAcquiredError,
  LockLostError,
  LockExtendFailedError,
  LockReleaseFailedError,
} from './lock.errors';
export type { NotAcquiredReason, LostReason, ExtendFailedReason } from './lock.errors';
export type {
  AcquireOptions,
  ReleaseResult,
  LockedWork,
  RunOnceOptions,
  LeadOptions,
} from './lock.types';
export type { ResourceSpec } from './resource.template';
export { MAX_RESOURCES } from './lock.keys';
