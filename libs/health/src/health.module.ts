import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimitModule } from '@lattice/rate-limit';
import { RedisModule } from '@lattice/redis';
import { HealthController } from './health.controller';
import { ShutdownState } from './shutdown.state';

/**
 * GET /health/live and /health/ready (Redis answers a PING; the limiter's
 * state is reported beside it), and the app's ShutdownState.
 */
@Module({
  // Failed probes are expected while Redis is down; the 503 says enough.
  imports: [TerminusModule.forRoot({ logger: false }), RedisModule, RateLimitModule],
  controllers: [HealthController],
  providers: [ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
