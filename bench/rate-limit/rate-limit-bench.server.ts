// One Nest-Fastify app serving GET /bench/open and GET /bench/strict behind one
// of four limiters (TARGET): our guard, @nestjs/throttler with
// @nest-lab/throttler-storage-redis, rate-limiter-flexible's RateLimiterRedis in
// a guard, or none. Prints "ready" once listening. Started by rate-limit.bench.ts.
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpException,
  Injectable,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { FastifyReply, FastifyRequest } from 'fastify';
// The peers need a client of their own; see the bench exception in .dependency-cruiser.cjs.
import { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ConfigModule, loadConfig } from '@lattice/config';
import { GlobalExceptionFilter } from '@lattice/http';
import { RateLimit, RateLimitGuard, RateLimitModule } from '@lattice/rate-limit';

export type Target = 'lattice' | 'throttler' | 'flexible' | 'none';

/** The policies every limiter applies: one never reached, one reached after 100 requests. */
export const OPEN_POLICY = { limit: 100_000_000, windowSeconds: 10 };
export const STRICT_POLICY = { limit: 100, windowSeconds: 60 };

const target = process.env.TARGET as Target;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

@Controller('bench')
class BenchController {
  @Get('open')
  open(): { ok: true } {
    return { ok: true };
  }

  // Three policies never reached on one route (ours only): the cost of stacking against `open`.
  @Get('stacked')
  @RateLimit('ip', 'open-b', 'open-c')
  stacked(): { ok: true } {
    return { ok: true };
  }

  // Each limiter reads its own decorator; the others ignore it.
  @Get('strict')
  @RateLimit('strict')
  @Throttle({ default: { limit: STRICT_POLICY.limit, ttl: STRICT_POLICY.windowSeconds * 1000 } })
  strict(): { ok: true } {
    return { ok: true };
  }
}

/** rate-limiter-flexible as its documentation wires it into a Nest guard. */
@Injectable()
class FlexibleGuard implements CanActivate {
  private readonly client = new Redis(redisUrl, { enableOfflineQueue: false });
  private readonly open = new RateLimiterRedis({
    storeClient: this.client,
    keyPrefix: 'rlflx-open',
    points: OPEN_POLICY.limit,
    duration: OPEN_POLICY.windowSeconds,
  });
  private readonly strict = new RateLimiterRedis({
    storeClient: this.client,
    keyPrefix: 'rlflx-strict',
    points: STRICT_POLICY.limit,
    duration: STRICT_POLICY.windowSeconds,
  });

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const strict = context.getHandler().name === 'strict';
    const limiter = strict ? this.strict : this.open;
    const points = strict ? STRICT_POLICY.limit : OPEN_POLICY.limit;
    try {
      const res = await limiter.consume(request.ip);
      reply.header('X-RateLimit-Limit', points);
      reply.header('X-RateLimit-Remaining', res.remainingPoints);
      reply.header('X-RateLimit-Reset', Math.ceil(res.msBeforeNext / 1000));
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      reply.header('Retry-After', Math.ceil(rejection.msBeforeNext / 1000));
      throw new HttpException('Too Many Requests', 429);
    }
  }
}

function rootModule(): DynamicModule {
  const guards: Provider[] = [];
  const imports: DynamicModule['imports'] = [];
  switch (target) {
    case 'lattice': {
      const config = loadConfig('gateway', {
        REDIS_URL: redisUrl,
        RATE_LIMIT_IP: `${OPEN_POLICY.limit}/${OPEN_POLICY.windowSeconds}`,
      });
      imports.push(
        ConfigModule.forRoot(config),
        RateLimitModule,
        RateLimitModule.forRoot({
          policies: [
            { name: 'strict', limit: STRICT_POLICY.limit, window: STRICT_POLICY.windowSeconds },
            { name: 'open-b', limit: OPEN_POLICY.limit, window: OPEN_POLICY.windowSeconds },
            { name: 'open-c', limit: OPEN_POLICY.limit, window: OPEN_POLICY.windowSeconds },
          ],
        }),
      );
      // As in the apps: the platform's filter turns RateLimitedError into the 429 body.
      guards.push(
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
      );
      break;
    }
    case 'throttler':
      imports.push(
        ThrottlerModule.forRoot({
          throttlers: [{ limit: OPEN_POLICY.limit, ttl: OPEN_POLICY.windowSeconds * 1000 }],
          storage: new ThrottlerStorageRedisService(redisUrl),
        }),
      );
      guards.push({ provide: APP_GUARD, useClass: ThrottlerGuard });
      break;
    case 'flexible':
      guards.push({ provide: APP_GUARD, useClass: FlexibleGuard });
      break;
    case 'none':
      break;
    default:
      throw new Error(`unknown TARGET ${String(target)}`);
  }
  class BenchModule {}
  return { module: BenchModule, imports, controllers: [BenchController], providers: guards };
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(rootModule(), new FastifyAdapter(), {
    logger: ['error'],
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
