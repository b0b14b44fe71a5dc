import { Global, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsService } from '@lattice/observability';
import { RedisService } from './redis.service';
import { RedisHealthIndicator } from './redis.health';
import { countRedisCommands } from './redis-metrics';

@Global()
@Module({
  imports: [TerminusModule],
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
