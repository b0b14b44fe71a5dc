import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, Public } from '@lattice/common';
import { ConfigService, type SessionConfig } from '@lattice/config';
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
import { LoginBody, LogoutAllBody, RegisterBody, SessionIdParams } from './account.dto';
import type { UserProfile } from './account.types';
import { AccountsService } from './accounts.service';
import { LoginThrottle } from './login.throttle';
import {
  sessionListItem,
  sessionView,
  type SessionListItem,
  type SessionView,
} from './session-view';

@Controller('auth')
export class AuthController {
  private readonly ttl: SessionConfig;
  private readonly secureCookie: boolean;

  constructor(
    private readonly accounts: AccountsService,
    private readonly sessions: SessionService,
    private readonly loginThrottle: LoginThrottle,
    config: ConfigService,
  ) {
    this.ttl = config.get('session');
    this.secureCookie = config.get('http').cookieSecure;
  }

  @Public()
  @Post('register')
  async register(
    @Body() body: RegisterBody,
  ): Promise<Pick<UserProfile, 'id' | 'login' | 'name' | 'signup'>> {
    const { id, login, name, signup } = await this.accounts.register(body);
    return { id, login, name, signup };
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(
    @Body() body: LoginBody,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ token: string; user: UserProfile; session: SessionView }> {
    await this.loginThrottle.check(request, reply, body.login);
    const user = await this.accounts.verifyCredentials(body.login, body.password);
    const { token, record } = await this.sessions.create(
      { id: user.id, login: user.login, roles: user.roles },
      { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' },
    );
    setSessionCookie(reply, token, {
      secure: this.secureCookie,
      maxAgeSeconds: this.ttl.absoluteTtlSeconds,
    });
    return { token, user, session: sessionView(record, this.ttl.idleTtlSeconds) };
  }

  @Get('me')
  async me(
    @CurrentUser() user: SessionUser,
    @CurrentSession() session: SessionRecord,
  ): Promise<{ user: UserProfile; session: SessionView }> {
    const profile = await this.accounts.profile(user.id);
    if (!profile) throw new NotFoundError('This account no longer exists');
    return { user: profile, session: sessionView(session, this.ttl.idleTtlSeconds) };
  }

  @Post('logout')
  @HttpCode(204)
  async logout(
    @CurrentSession() session: SessionRecord,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.revoke(session.id);
    clearSessionCookie(reply, { secure: this.secureCookie });
  }

  @Post('logout-all')
  @HttpCode(204)
  async logoutAll(
    @Body() body: LogoutAllBody,
    @CurrentSession() session: SessionRecord,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.revokeAll(session.userId, body.keepCurrent ? session.id : undefined);
    if (!body.keepCurrent) clearSessionCookie(reply, { secure: this.secureCookie });
  }

  @Get('sessions')
  async list(@CurrentSession() session: SessionRecord): Promise<SessionListItem[]> {
    const all = await this.sessions.list(session.userId);
    return all.map((s) => sessionListItem(s, this.ttl.idleTtlSeconds, session.id));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
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
