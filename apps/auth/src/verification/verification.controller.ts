import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { CurrentUser, type SessionUser } from '@lattice/session';
import {
  ChallengeParams,
  ConfirmBody,
  MediumParams,
  StartVerificationBody,
  verificationStateSchema,
} from './verification.dto';
import { VerificationService } from './verification.service';
import type { VerificationState } from './verification.types';

@ApiTags('verification')
@ApiErrors(400, 429)
@Controller('auth/verifications')
export class VerificationController {
  constructor(private readonly verifications: VerificationService) {}

  @Post()
  @ApiOperation({
    summary: 'Start a verification challenge',
    description:
      'Starts (or starts again, replacing the old one) the challenge of a blockchain address: one token per medium to publish there. `network` must be one of VERIFICATION_NETWORKS.',
  })
  @ApiSession()
  @ApiAnswer(201, verificationStateSchema, 'The full state, tokens included')
  start(
    @Body() body: StartVerificationBody,
    @CurrentUser() user: SessionUser,
  ): Promise<VerificationState> {
    return this.verifications.start(user.id, body);
  }

  @Public()
  @Get(':network/:address')
  @ApiOperation({ summary: "A challenge's state" })
  @ApiSession({ optional: true })
  @ApiAnswer(200, verificationStateSchema, "The state; tokens only for the challenge's owner")
  @ApiError(404, 'NOT_FOUND', 'no challenge for this address')
  get(
    @Param() params: ChallengeParams,
    @Req() request: FastifyRequest,
  ): Promise<VerificationState> {
    return this.verifications.get(params.network, params.address, request.user?.id);
  }

  @Public()
  @Post(':network/:address/:type/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm one medium with its token' })
  @ApiSession({ optional: true })
  @ApiAnswer(200, verificationStateSchema, 'The state after the confirmation')
  // A method's answers replace the controller's for the same status: repeat the general 400.
  @ApiErrors(400)
  @ApiError(400, 'INVALID_TOKEN', 'the token does not confirm this medium')
  @ApiError(404, 'NOT_FOUND', 'no challenge for this address, or it has no such medium')
  confirm(
    @Param() params: MediumParams,
    @Body() body: ConfirmBody,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<VerificationState> {
    return this.verifications.confirm(
      params.network,
      params.address,
      params.type,
      body.token,
      request,
      reply,
    );
  }

  @Delete(':network/:address')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a challenge' })
  @ApiSession()
  @ApiAnswer(204, null, 'The challenge is gone')
  @ApiError(403, 'FORBIDDEN', 'only the user who started the challenge may delete it')
  @ApiError(404, 'NOT_FOUND', 'no challenge for this address')
  async remove(@Param() params: ChallengeParams, @CurrentUser() user: SessionUser): Promise<void> {
    await this.verifications.remove(params.network, params.address, user.id);
  }
}
