import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { RateLimitService } from '@lattice/rate-limit';
import { Roles } from '@lattice/session';
import { UserIdParams } from '../accounts/account.dto';
import { PasswordResetBody, passwordResetTicketSchema } from './password-reset.dto';
import { PasswordResetService } from './password-reset.service';

/** Password reset without email: an admin issues a token, its holder sets a password (CONTRACT 8.2). */
@ApiTags('accounts')
@ApiErrors(400, 429)
@Controller('auth')
export class PasswordResetController {
  constructor(
    private readonly resets: PasswordResetService,
    private readonly limiter: RateLimitService,
  ) {}

  @Post('users/:userId/password-reset')
  @Roles('admin')
  @ApiSession({ roles: ['admin'] })
  @ApiOperation({
    summary: 'Issue a password reset token for a user',
    description:
      'A single-use token that works for 15 minutes and replaces any earlier one of the user. Only its SHA-256 is stored: this answer is the only place the token appears, so hand it to the user (or to your mail sender) from here.',
  })
  @ApiAnswer(201, passwordResetTicketSchema, 'The token, shown this once')
  @ApiError(404, 'NOT_FOUND', 'no such user')
  issue(@Param() params: UserIdParams): Promise<{ token: string; expiresAt: string }> {
    return this.resets.issue(params.userId);
  }

  @Public()
  @Post('password-reset')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Set a new password with a reset token',
    description:
      'Uses the token up and sets the password (the rules of registration); every session of the user ends on every instance before the answer. Attempts are limited per client address (the `password-reset` policy, RATE_LIMIT_LOGIN numbers).',
  })
  @ApiAnswer(204, null, 'The password is set; every session of the user ended')
  @ApiError(400, 'INVALID_TOKEN', 'the token is unknown, used, replaced or expired')
  @ApiErrors(429)
  @ApiError(429, 'RATE_LIMITED', 'too many attempts from this address')
  async reset(
    @Body() body: PasswordResetBody,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.limiter.enforce(['password-reset'], request, reply);
    await this.resets.reset(body.token, body.newPassword);
  }
}
