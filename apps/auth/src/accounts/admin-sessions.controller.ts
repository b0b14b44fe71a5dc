import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { NotFoundError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { parseSessionId, Roles, SessionService } from '@lattice/session';
import { UserIdParams, UserSessionParams } from './account.dto';
import { sessionListItem, type SessionListItem } from './session-view';

/** What a user can do with their own sessions, an admin can do for anyone's. */
@Controller('auth/users/:userId')
@Roles('admin')
export class AdminSessionsController {
  private readonly idleTtlSeconds: number;

  constructor(
    private readonly sessions: SessionService,
    config: ConfigService,
  ) {
    this.idleTtlSeconds = config.get('session').idleTtlSeconds;
  }

  @Get('sessions')
  async list(@Param() params: UserIdParams): Promise<SessionListItem[]> {
    const all = await this.sessions.list(params.userId);
    return all.map((s) => sessionListItem(s, this.idleTtlSeconds));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async revokeOne(@Param() params: UserSessionParams): Promise<void> {
    const belongs = parseSessionId(params.id)?.userId === params.userId;
    if (!belongs || !(await this.sessions.revoke(params.id)))
      throw new NotFoundError('No such session');
  }

  @Post('logout-all')
  @HttpCode(204)
  async revokeAll(@Param() params: UserIdParams): Promise<void> {
    await this.sessions.revokeAll(params.userId);
  }
}
