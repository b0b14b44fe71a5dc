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
import { SkipRateLimit } from '@lattice/rate-limit';
import { RedisHealthIndicator } from '@lattice/redis';
import { ShutdownState } from './shutdown.state';

/** Terminus's report of each indicator, by name (here `redis`). */
const INDICATORS: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['up', 'down'] },
      maxmemoryPolicy: {
        type: 'string',
        nullable: true,
        description: "Redis's maxmemory-policy; null when Redis refuses CONFIG",
      },
      warning: {
        type: 'string',
        description: 'set when that policy lets Redis evict keys (anything but noeviction)',
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
    description: "Ready: terminus's report",
    schema: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok'] },
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
      return await this.health.check([() => this.redis.check('redis')]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw new UnavailableError('Not ready: Redis is unreachable');
      }
      throw error;
    }
  }
}
