import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
  type SchemaObject,
} from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { UnavailableError, Public } from '@lattice/common';
import { RateLimitHealthIndicator, SkipRateLimit } from '@lattice/rate-limit';
import { RedisHealthIndicator } from '@lattice/redis';
import { ShutdownState } from './shutdown.state';

/** Terminus's report of each indicator, by name: `redis` and `rateLimit`. */
const INDICATORS: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: {
      status: {
        type: 'string',
        enum: ['up', 'degraded', 'down'],
        description: '`degraded` (rateLimit only) keeps readiness 200',
      },
      maxmemoryPolicy: {
        type: 'string',
        nullable: true,
        description: "redis: Redis's maxmemory-policy; null when Redis refuses CONFIG",
      },
      mode: {
        type: 'string',
        enum: ['redis', 'memory', 'unavailable'],
        description:
          'rateLimit: where limits are decided now: in Redis (shared by every instance), in this instance alone (Redis unreachable, RATE_LIMIT_FAIL=open), or not at all, 503 (RATE_LIMIT_FAIL=closed)',
      },
      failMode: {
        type: 'string',
        enum: ['open', 'closed'],
        description: 'rateLimit: RATE_LIMIT_FAIL',
      },
      since: {
        type: 'string',
        format: 'date-time',
        description: 'rateLimit, when not on Redis: when the limiter stopped using it',
      },
      warning: {
        type: 'string',
        description:
          'redis: set when its policy lets Redis evict keys (anything but noeviction); rateLimit: set while not on Redis',
      },
    },
    required: ['status'],
  },
};

// Probes must never be refused: a load balancer would take a healthy instance out.
@ApiTags('health')
@SkipRateLimit()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly rateLimit: RateLimitHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  /** The process is up; nothing else is checked, so a Redis outage never restarts pods. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process is up (no dependency is checked)' })
  @ApiOkResponse({
    description: 'Up',
    schema: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok'] } },
      required: ['status'],
    },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness: Redis answers a PING within 500 ms, and no shutdown has begun',
  })
  @ApiOkResponse({
    description:
      "Ready: terminus's report. `status` is `degraded` while the rate limiter decides without Redis (details.rateLimit), which does not make the instance unready",
    schema: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok', 'degraded'] },
        info: INDICATORS,
        error: INDICATORS,
        details: INDICATORS,
      },
      required: ['status', 'details'],
    },
  })
  @ApiServiceUnavailableResponse({
    description: '`UNAVAILABLE`: Redis is unreachable, or the instance is shutting down',
    // The contract's error body: the ErrorBody component that @lattice/api defines.
    schema: { $ref: getSchemaPath('ErrorBody') },
  })
  async ready(): Promise<HealthCheckResult> {
    if (this.shutdown.isShuttingDown) throw new UnavailableError('Shutting down');
    try {
      // The limiter's entry never fails readiness (see RateLimitHealthIndicator).
      return await this.health.check([
        () => this.redis.check('redis'),
        () => this.rateLimit.check('rateLimit'),
      ]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw new UnavailableError('Not ready: Redis is unreachable');
      }
      throw error;
    }
  }
}
