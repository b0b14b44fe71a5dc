import { Body, Controller, Delete, HttpCode, Patch, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigService } from '@lattice/config';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { clearSessionCookie, CurrentSession, type SessionRecord } from '@lattice/session';
import {
  ChangePasswordBody,
  currentSessionSchema,
  DeleteAccountBody,
  ProfileBody,
} from './account.dto';
import type { UserProfile } from './account.types';
import { AccountSettingsService } from './account-settings.service';
import { LoginThrottle } from './login.throttle';
import { MfaService } from '../mfa/mfa.service';
import { sessionView, type SessionView } from './session-view';

/** The signed-in user's own account: name, password, deletion (CONTRACT 8.2). */
@ApiTags('accounts')
@ApiSession()
@ApiErrors(400, 429)
@Controller('auth')
export class AccountSettingsController {
  private readonly idleTtlSeconds: number;
  private readonly secureCookie: boolean;

  constructor(
    private readonly settings: AccountSettingsService,
    private readonly throttle: LoginThrottle,
    private readonly mfa: MfaService,
    config: ConfigService,
  ) {
    this.idleTtlSeconds = config.get('session').idleTtlSeconds;
    this.secureCookie = config.get('http').cookieSecure;
  }

  @Patch('me')
  @ApiOperation({ summary: "Change the caller's display name" })
  @ApiAnswer(200, currentSessionSchema, 'The caller, renamed, and the session of the request')
  async rename(
    @Body() body: ProfileBody,
    @CurrentSession() session: SessionRecord,
  ): Promise<{ user: UserProfile; session: SessionView }> {
    const user = await this.settings.rename(session, body.name);
    return { user, session: sessionView(session, this.idleTtlSeconds) };
  }

  @Post('password')
  @HttpCode(204)
  @ApiOperation({
    summary: "Change the caller's password",
    description:
      'Needs the current password; attempts count against the same limit as logins (RATE_LIMIT_LOGIN). Every other session of the account is refused on every instance before the answer; the session of the request is kept.',
  })
  @ApiAnswer(204, null, 'Changed; every other session ended')
  @ApiError(401, 'INVALID_CREDENTIALS', 'the current password is wrong (the attempt is counted)')
  @ApiErrors(429)
  @ApiError(429, 'RATE_LIMITED', 'too many attempts for this login from this address')
  async changePassword(
    @Body() body: ChangePasswordBody,
    @CurrentSession() session: SessionRecord,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.throttle.check(request, reply, session.login);
    await this.settings.changePassword(session, body.currentPassword, body.newPassword);
  }

  @Delete('me')
  @HttpCode(204)
  @ApiOperation({
    summary: "Delete the caller's account",
    description:
      'Needs the password, and a code (TOTP or recovery) when a second factor is active; attempts count against the same limit as logins. The profile, login mapping (the login is free again), password, roles, reset token, second factor, its place in the user directory and every session go, on every instance before the answer, and the user’s sockets close. Repeating it for an account already gone answers 204.',
  })
  @ApiAnswer(204, null, 'The account is gone')
  @ApiError(401, 'INVALID_CREDENTIALS', 'the password is wrong (the attempt is counted)')
  @ApiError(401, 'INVALID_CODE', 'a second factor is active and the code is missing, wrong or used')
  @ApiError(409, 'LAST_ADMIN', 'the caller is the last active admin')
  @ApiErrors(429)
  @ApiError(429, 'RATE_LIMITED', 'too many attempts for this login from this address')
  async deleteAccount(
    @Body() body: DeleteAccountBody,
    @CurrentSession() session: SessionRecord,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.throttle.check(request, reply, session.login);
    await this.settings.deleteAccount(session, body.password, () =>
      this.mfa.checkIfActive(session.userId, body.code, request, reply),
    );
    clearSessionCookie(reply, { secure: this.secureCookie });
  }
}
