import { Body, Controller, Delete, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { CurrentSession, Roles, type SessionRecord } from '@lattice/session';
import { UserIdParams } from '../accounts/account.dto';
import { AccountsService } from '../accounts/accounts.service';
import { ConfirmTotpBody, DisableTotpBody, enrolmentSchema, recoveryCodesSchema } from './mfa.dto';
import { MfaService, type Enrolment } from './mfa.service';

/** The second factor (CONTRACT 8.2): enrol, confirm, disable; an admin's reset. */
@ApiTags('accounts')
@ApiErrors(400, 429)
@Controller('auth')
export class MfaController {
  constructor(
    private readonly mfa: MfaService,
    private readonly accounts: AccountsService,
  ) {}

  @Post('mfa/totp')
  @ApiSession()
  @ApiOperation({
    summary: 'Start enrolling a TOTP second factor',
    description:
      'Answers a new secret, as an otpauth:// URI and a QR code; it is not in force until confirmed with a first code (within 10 minutes). Starting again replaces an enrolment under way.',
  })
  @ApiAnswer(201, enrolmentSchema, 'Enrolment started')
  @ApiError(409, 'CONFLICT', 'a second factor is active already')
  async enrol(@CurrentSession() session: SessionRecord): Promise<Enrolment> {
    return this.mfa.enrol(session.userId, session.login);
  }

  @Post('mfa/totp/confirm')
  @ApiSession()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Confirm the enrolment with a first code',
    description:
      'The factor is active from now: logins take two steps. Answers ten recovery codes, this once; they are kept only hashed.',
  })
  @ApiAnswer(200, recoveryCodesSchema, 'Active')
  @ApiError(401, 'INVALID_CODE', 'the code is wrong (the attempt is counted)')
  @ApiError(404, 'NOT_FOUND', 'no enrolment under way (none started, or it expired)')
  @ApiError(409, 'CONFLICT', 'a second factor is active already')
  async confirm(
    @Body() body: ConfirmTotpBody,
    @CurrentSession() session: SessionRecord,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ recoveryCodes: string[] }> {
    const account = await this.accounts.accountOfSession(session);
    return { recoveryCodes: await this.mfa.confirm(account, body.code, request, reply) };
  }

  @Delete('mfa/totp')
  @ApiSession()
  @HttpCode(204)
  @ApiOperation({ summary: 'Disable the second factor (needs the password and a code)' })
  @ApiAnswer(204, null, 'Disabled; its recovery codes are gone too')
  @ApiError(401, 'INVALID_CREDENTIALS', 'the password is wrong')
  @ApiError(401, 'INVALID_CODE', 'the code is wrong or used (the attempt is counted)')
  @ApiError(404, 'NOT_FOUND', 'no second factor is active')
  async disable(
    @Body() body: DisableTotpBody,
    @CurrentSession() session: SessionRecord,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.mfa.disable(session.userId, body.password, body.code, request, reply);
  }

  @Delete('users/:userId/mfa')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: "Remove a user's second factor (admins)",
    description:
      'For a user who lost the device and the recovery codes: the factor, an enrolment under way and the recovery codes go; the next login takes the password alone.',
  })
  @ApiSession({ roles: ['admin'] })
  @ApiAnswer(204, null, 'Removed')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  async reset(@Param() { userId }: UserIdParams): Promise<void> {
    if (!(await this.accounts.account(userId))) throw new NotFoundError('No such user');
    await this.mfa.reset(userId);
  }
}
