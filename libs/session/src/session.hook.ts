import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnavailableError } from '@lattice/common';
import { sessionTokenOf } from './session-cookie';
import { SessionService } from './session.service';
import type { AuthenticatedVia, SessionRecord } from './session.types';

function signIn(request: FastifyRequest, session: SessionRecord, via: AuthenticatedVia): void {
  request.userSession = session;
  request.user = { id: session.userId, login: session.login, roles: session.roles };
  request.authenticatedVia = via;
}

/**
 * Resolves the caller's session before any guard runs, so every guard (auth,
 * roles, rate limits) and handler sees `request.user`. It never refuses a
 * request itself: that is the guard's decision, route by route.
 */
@Injectable()
export class SessionHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: SessionService,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance() as FastifyInstance | undefined;
    if (!fastify?.addHook) return;
    fastify.addHook('onRequest', (request, _reply, done) => {
      const presented = sessionTokenOf(request);
      if (!presented) return done();
      // Most requests are answered by the in-process cache, synchronously.
      const cached = this.sessions.peek(presented.token);
      if (cached !== undefined) {
        if (cached) signIn(request, cached, presented.via);
        return done();
      }
      this.sessions.authenticate(presented.token).then(
        (session) => {
          if (session) signIn(request, session, presented.via);
          done();
        },
        (error: unknown) => {
          if (!(error instanceof UnavailableError)) return done(error as Error);
          request.sessionUnavailable = true;
          done();
        },
      );
    });
  }
}
