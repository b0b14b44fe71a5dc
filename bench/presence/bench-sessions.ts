import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule, loadConfig } from '@lattice/config';
import { ObservabilityModule } from '@lattice/observability';
import { RedisModule, RedisService } from '@lattice/redis';
import { SessionModule, SessionService } from '@lattice/session';

@Module({})
class BenchSessionsModule {
  static forRoot(redisUrl: string): DynamicModule {
    const config = loadConfig('auth', { REDIS_URL: redisUrl, LOG_LEVEL: 'fatal' });
    return {
      module: BenchSessionsModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(),
        RedisModule,
        SessionModule,
      ],
    };
  }
}

export interface BenchUser {
  userId: string;
  login: string;
  token: string;
}

/**
 * Signs `count` users in with the session lib itself (as the auth app would,
 * without hashing 10,000 passwords), and writes their profiles' display names.
 */
export async function createUsers(redisUrl: string, count: number): Promise<BenchUser[]> {
  const context = await NestFactory.createApplicationContext(
    BenchSessionsModule.forRoot(redisUrl),
    {
      logger: false,
    },
  );
  try {
    const redis = context.get(RedisService);
    await redis.whenReady(5_000);
    const sessions = context.get(SessionService);
    const users: BenchUser[] = [];
    const meta = { ip: '127.0.0.1', userAgent: 'bench' };
    for (let start = 1; start <= count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start + 1) }, (_, i) => start + i);
      const created = await Promise.all(
        batch.map(async (id) => {
          const userId = String(id);
          const login = `bench${id}`;
          await redis.client.hset(
            `user:${userId}`,
            'login',
            login,
            'id',
            userId,
            'name',
            `Bench User ${id}`,
          );
          const { token } = await sessions.create({ id: userId, login, roles: [] }, meta);
          return { userId, login, token };
        }),
      );
      users.push(...created);
    }
    return users;
  } finally {
    await context.close();
  }
}
