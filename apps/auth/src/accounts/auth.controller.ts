import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, Public } from '@lattice/common';
import { ConfigService, type SessionConfig } from '@lattice/config';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import {
  clearSessionCookie,
  CurrentSession,
  parseSessionId,
  CurrentUser,
  SessionService,
  setSessionCookie,
  type SessionRecord,
  type SessionUser,
} from '@lattice/session';
import {
  currentSessionSchema,
  loginAnswerSchema,
  LoginBody,
  mfaChallengeSchema,
  LogoutAllBody,
  RegisterBody,
  registeredUserSchema,
  SessionIdParams,
  sessionListSchema,
} from './account.dto';
import type { UserProfile } from './account.types';
import { AccountsService } from './accounts.service';
import type { StoredAccount } from './accounts.repository';
import { LoginMfaBody } from '../mfa/mfa.dto';
import { MfaService } from '../mfa/mfa.service';
import { AdminBootstrap } from './admin.bootstrap';
import { LoginThrottle } from './login.throttle';
import {
  sessionListItem,
  sessionView,
  type SessionListItem,
  type SessionView,
} from './session-view';

type SignedIn = { token: string; user: UserProfile; session: SessionView };
type MfaChallenge = { mfaRequired: true; challenge: string; expiresAt: string };

@ApiTags('accounts')
@ApiErrors(429)
@Controller('auth')
export class AuthController {
  private readonly ttl: SessionConfig;
  private readonly secureCookie: boolean;

  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: SessionService,
    private readonly loginThrottle: LoginThrottle,
    private readonly adminBootstrap: AdminBootstrap,
    private readonly mfa: MfaService,
    config: ConfigService,
  ) {
    this.ttl = config.get('session');
    this.secureCookie = config.get('http').cookieSecure;
  }

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create an account' })
  @ApiAnswer(201, registeredUserSchema, 'The new account')
  @ApiErrors(400)
  @ApiError(409, 'CONFLICT', 'an account with this login, ignoring case, exists')
  async register(
    @Body() body: RegisterBody,
  ): Promise<Pick<UserProfile, 'id' | 'login' | 'name' | 'signup'>> {
    const { id, login, name, signup } = await this.accounts.register(body);
    return { id, login, name, signup };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in',
    description:
      'Starts a session. Its token comes back in the body and as the `sid` cookie; present either one (cookie, or `Authorization: Bearer <token>`) on later requests, to any app.',
  })
  @ApiAnswer(
    200,
    z.union([loginAnswerSchema, mfaChallengeSchema]),
    'Signed in; or, with a second factor, the challenge of the second step (no session yet)',
    {
      headers: {
        'Set-Cookie': {
          description: '`sid=<token>; HttpOnly; SameSite=Lax; Path=/`',
          schema: { type: 'string' },
        },
      },
    },
  )
  @ApiErrors(400)
  @ApiError(401, 'INVALID_CREDENTIALS', 'unknown login or wrong password (one answer for both)')
  @ApiError(403, 'ACCOUNT_SUSPENDED', 'the right password for a suspended account')
  // A method's answers replace the controller's for the same status: repeat the general 429.
  @ApiErrors(429)
  @ApiError(
    429,
    'RATE_LIMITED',
    'too many attempts for this login from this address (RATE_LIMIT_LOGIN)',
  )
  async login(
    @Body() body: LoginBody,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SignedIn | MfaChallenge> {
    await this.loginThrottle.check(request, reply, body.login);
    await this.adminBootstrap.restoreBeforeLogin(body.login);
    const account = await this.accounts.verifyCredentials(body.login, body.password);
    if (await this.mfa.isActive(account.profile.id)) return this.mfa.challenge(account);
    return this.signIn(account, request, reply);
  }

  @Public()
  @Post('login/mfa')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in, second step',
    description:
      'For an account with a second factor: the challenge that POST /auth/login answered and a TOTP code (each accepted once, on any instance) or an unused recovery code. A challenge takes five attempts, then is gone; attempts also count per account (10 in 15 minutes, then 15 minutes blocked).',
  })
  @ApiAnswer(200, loginAnswerSchema, 'Signed in')
  @ApiErrors(400)
  @ApiError(401, 'INVALID_CODE', 'the code is wrong or used already')
  @ApiError(
    401,
    'MFA_CHALLENGE_EXPIRED',
    'the challenge is unknown, expired, used, or out of attempts; or the password changed since',
  )
  @ApiErrors(429)
  async loginMfa(
    @Body() body: LoginMfaBody,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SignedIn> {
    const account = await this.mfa.completeLogin(body.challenge, body.code, request, reply);
    return this.signIn(account, request, reply);
  }

  /** Opens a session for an account whose credentials were checked, and sets its cookie. */
  private async signIn(
    account: StoredAccount & { passwordHash: string },
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<SignedIn> {
    const { id, login, roles } = account.profile;
    const { token, record } = await this.sessions.create(
      { id, login, roles },
      { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' },
      account.generation,
    );
    const user = await this.accounts.confirmLogin(account, record.id);
    setSessionCookie(reply, token, {
      secure: this.secureCookie,
      maxAgeSeconds: this.ttl.absoluteTtlSeconds,
    });
    return { token, user, session: sessionView(record, this.ttl.idleTtlSeconds) };
  }

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user and session' })
  @ApiSession()
  @ApiAnswer(200, currentSessionSchema, 'The caller and the session of the request')
  async me(
    @CurrentSession() session: SessionRecord,
  ): Promise<{ user: UserProfile; session: SessionView }> {
    // Gone, or the id now holds a newer account (Redis lost data): never answer with that one.
    const account = await this.accounts.accountOfSession(session);
    return { user: account.profile, session: sessionView(session, this.ttl.idleTtlSeconds) };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: end the session of the request' })
  @ApiSession()
  @ApiAnswer(204, null, 'Signed out: the session is refused everywhere from now on')
  async logout(
    @CurrentSession() session: SessionRecord,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.revoke(session.id);
    clearSessionCookie(reply, { secure: this.secureCookie });
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiOperation({ summary: "End every session of the caller's account" })
  @ApiSession()
  @ApiBody({ type: LogoutAllBody, required: false, description: 'May be left out' })
  @ApiAnswer(204, null, 'Every session ended, but the current one when `keepCurrent` is true')
  @ApiErrors(400)
  async logoutAll(
    @Body() body: LogoutAllBody,
    @CurrentSession() session: SessionRecord,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.revokeAll(session.userId, body.keepCurrent ? session.id : undefined);
    if (!body.keepCurrent) clearSessionCookie(reply, { secure: this.secureCookie });
  }

  @Get('sessions')
  @ApiOperation({ summary: "The caller's sessions" })
  @ApiSession()
  @ApiAnswer(200, sessionListSchema, 'Every live session of the account')
  async list(@CurrentSession() session: SessionRecord): Promise<SessionListItem[]> {
    const all = await this.sessions.list(session.userId);
    return all.map((s) => sessionListItem(s, this.ttl.idleTtlSeconds, session.id));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of the caller's sessions" })
  @ApiSession()
  @ApiAnswer(204, null, 'The session ended')
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'the caller has no such session')
  async revokeOne(
    @Param() params: SessionIdParams,
    @CurrentUser() user: SessionUser,
  ): Promise<void> {
    // Someone else's session id answers exactly like one that does not exist.
    const own = parseSessionId(params.id)?.userId === user.id;
    if (!own || !(await this.sessions.revoke(params.id)))
      throw new NotFoundError('No such session');
  }
}
