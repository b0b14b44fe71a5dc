// One server of the session benchmark, in its own process. TARGET picks it:
//   lattice          our SessionModule: GET /bench/private needs a session, /bench/public not
//   fastify-session  @fastify/session with connect-redis: GET /bench/private checks the session
// Both are the same Nest-Fastify app otherwise (PlatformModule: logs, metrics, filters).
import {
  Controller,
  Get,
  Post,
  Req,
  UnauthorizedException,
  type DynamicModule,
} from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedisStore } from 'connect-redis';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createClient } from 'redis';
import { Public } from '@lattice/common';
import { loadConfig } from '@lattice/config';
import { createApp, PlatformModule } from '@lattice/http';
import { CurrentUser, SessionModule, SessionService, type SessionUser } from '@lattice/session';

const target = process.env.TARGET;
const config = loadConfig('gateway', process.env);

@Controller('bench')
class LatticeBenchController {
  constructor(private readonly sessions: SessionService) {}

  // The same handler twice: the routes differ only in the session guard.
  @Public()
  @Get('public')
  open(@CurrentUser() user?: SessionUser): { ok: true; user: string | null } {
    return { ok: true, user: user?.id ?? null };
  }

  @Get('private')
  guarded(@CurrentUser() user?: SessionUser): { ok: true; user: string | null } {
    return { ok: true, user: user?.id ?? null };
  }

  @Public()
  @Post('login')
  async login(): Promise<{ token: string }> {
    const { token } = await this.sessions.create(
      { id: '1', login: 'bench', roles: [] },
      { ip: '127.0.0.1', userAgent: 'bench' },
    );
    return { token };
  }
}

interface PeerSession {
  user?: { id: string };
}

@Controller('bench')
class FastifySessionBenchController {
  @Public()
  @Get('private')
  guarded(@Req() request: FastifyRequest & { session: PeerSession }): { ok: true; user: string } {
    const user = request.session.user;
    if (!user) throw new UnauthorizedException();
    return { ok: true, user: user.id };
  }

  @Public()
  @Post('login')
  login(@Req() request: FastifyRequest & { session: PeerSession }): { ok: true } {
    request.session.user = { id: '1' };
    return { ok: true };
  }
}

async function main(): Promise<void> {
  class BenchModule {}
  const root: DynamicModule = {
    module: BenchModule,
    imports: [PlatformModule.forRoot(config), ...(target === 'lattice' ? [SessionModule] : [])],
    controllers: [target === 'lattice' ? LatticeBenchController : FastifySessionBenchController],
  };
  const app = await createApp(config, root);
  if (target === 'fastify-session') {
    const client = createClient({
      url: config.redis.mode === 'standalone' ? config.redis.url : undefined,
    });
    await client.connect();
    const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    await fastify.register(fastifyCookie as never);
    await fastify.register(fastifySession as never, {
      secret: 'a-benchmark-secret-of-at-least-32-characters',
      cookieName: 'sessionId',
      cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: 3_600_000 },
      saveUninitialized: false,
      store: new RedisStore({ client, prefix: 'fsess:' }),
    });
  }
  await app.listen({ port: config.http.port, host: '127.0.0.1' });
  process.stdout.write('ready\n');
}

void main();
