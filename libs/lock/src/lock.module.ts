import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LockService } from './lock.service';

/**
 * Provides LockService to the whole app. Needs RedisService and ConfigService
 * (PlatformModule); add it beside PlatformModule as `LockModule` or
 * `LockModule.forRoot()`.
 */
@Global()
@Module({ providers: [LockService], exports: [LockService] })
export class LockModule {
  static forRoot(): DynamicModule {
    return { module: LockModule };
  }
}
