import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { NotFoundError } from '@lattice/common';
import { ConfigService } from '@lattice/config';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { parseSessionId, Roles, SessionService } from '@lattice/session';
import { sessionListSchema, UserIdParams, UserSessionParams } from './account.dto';
import { sessionListItem, type SessionListItem } from './session-view';

/** What a user can do with their own sessions, an admin can do for anyone's. */
@ApiTags('admin')
@ApiSession({ roles: ['admin'] })
@ApiErrors(400, 429)
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
  @ApiOperation({ summary: "A user's sessions" })
  @ApiAnswer(200, sessionListSchema, 'Every live session of the user (`current` is always false)')
  async list(@Param() params: UserIdParams): Promise<SessionListItem[]> {
    const all = await this.sessions.list(params.userId);
    return all.map((s) => sessionListItem(s, this.idleTtlSeconds));
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "End one of a user's sessions" })
  @ApiAnswer(204, null, 'The session ended')
  @ApiError(404, 'NOT_FOUND', 'the user has no such session')
  async revokeOne(@Param() params: UserSessionParams): Promise<void> {
    const belongs = parseSessionId(params.id)?.userId === params.userId;
    if (!belongs || !(await this.sessions.revoke(params.id)))
      throw new NotFoundError('No such session');
  }

  @Post('logout-all')
  @HttpCode(204)
  @ApiOperation({ summary: "End every session of a user's account" })
  @ApiAnswer(204, null, 'Every session of the user ended')
  async revokeAll(@Param() params: UserIdParams): Promise<void> {
    await this.sessions.revokeAll(params.userId);
  }
}
