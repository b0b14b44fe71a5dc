import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '@lattice/common';
import { CurrentUser, type SessionUser } from '@lattice/session';
import {
  ChallengeParams,
  ConfirmBody,
  MediumParams,
  StartVerificationBody,
} from './verification.dto';
import { VerificationService } from './verification.service';
import type { VerificationState } from './verification.types';

@Controller('auth/verifications')
export class VerificationController {
  constructor(private readonly verifications: VerificationService) {}

  @Post()
  start(
    @Body() body: StartVerificationBody,
    @CurrentUser() user: SessionUser,
  ): Promise<VerificationState> {
    return this.verifications.start(user.id, body);
  }

  @Public()
  @Get(':network/:address')
  get(
    @Param() params: ChallengeParams,
    @Req() request: FastifyRequest,
  ): Promise<VerificationState> {
    return this.verifications.get(params.network, params.address, request.user?.id);
  }

  @Public()
  @Post(':network/:address/:type/confirm')
  @HttpCode(200)
  confirm(
    @Param() params: MediumParams,
    @Body() body: ConfirmBody,
    @Req() request: FastifyRequest,
  ): Promise<VerificationState> {
    return this.verifications.confirm(
      params.network,
      params.address,
      params.type,
      body.token,
      request.ip,
      request.user?.id,
    );
  }

  @Delete(':network/:address')
  @HttpCode(204)
  async remove(@Param() params: ChallengeParams, @CurrentUser() user: SessionUser): Promise<void> {
    await this.verifications.remove(params.network, params.address, user.id);
  }
}
