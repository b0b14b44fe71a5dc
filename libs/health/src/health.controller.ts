import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { UnavailableError, Public } from '@lattice/common';
import { SkipRateLimit } from '@lattice/rate-limit';
import { RedisHealthIndicator } from '@lattice/redis';
import { ShutdownState } from './shutdown-state';

// Probes must never be refused: a load balancer would take a healthy instance out.
@SkipRateLimit()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  /** The process is up; nothing else is checked, so a Redis outage never restarts pods. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(): Promise<HealthCheckResult> {
    if (this.shutdown.isShuttingDown) throw new UnavailableError('Shutting down');
    try {
      return await this.health.check([() => this.redis.check('redis')]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw new UnavailableError('Not ready: Redis is unreachable');
      }
      throw error;
    }
  }
}
