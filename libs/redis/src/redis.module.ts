import { Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsModule, MetricsService } from '@lattice/observability';
import { RedisService } from './redis.service';
import { RedisHealthIndicator } from './redis.health';
import { countRedisCommands } from './redis-metrics';

/**
 * The app's Redis connections (RedisService) and the readiness indicator.
 * Import it wherever RedisService is used: a static module, so every import
 * is the same module and the app keeps one RedisService. Reads its settings
 * from ConfigService (ConfigModule, global).
 */
@Module({
  imports: [TerminusModule, MetricsModule],
  providers: [RedisService, RedisHealthIndicator],
  exports: [RedisService, RedisHealthIndicator],
})
export class RedisModule implements OnModuleInit, OnApplicationShutdown {
  private stopCounting?: () => void;

  constructor(private readonly metrics: MetricsService) {}

  onModuleInit(): void {
    this.stopCounting = countRedisCommands(
      this.metrics.hotCounter('lattice_redis_commands_total', 'Redis commands sent', ['command']),
      this.metrics.hotCounter('lattice_redis_command_errors_total', 'Redis commands that failed', [
        'command',
      ]),
    );
  }

  onApplicationShutdown(): void {
    this.stopCounting?.();
  }
}
