import { Module } from '@nestjs/common';

/**
 * What `CacheModule.forRoot(options)` returns: the app's cache options, given
 * once at its root, and the warmers with the CacheWarmup that runs them.
 * CacheService itself stays in CacheModule, which each user imports.
 */
@Module({})
export class CacheRootModule {}
