import { Body, Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { Roles } from '@lattice/session';
import { drawViewSchema, entrantProfileSchema, winnersSchema } from './prize-draw.openapi';
import { DrawParams, EnterDrawBody, StartDrawBody } from './prize-draw.dto';
import { PrizeDrawService } from './prize-draw.service';
import type { DrawView, EntrantProfile, Winner } from './prize-draw.types';

/** CONTRACT 4.3's prize-draw API. Reading and entering are open to anyone; running a draw is for admins. */
@ApiTags('prize-draws')
@Controller('api/draws')
export class PrizeDrawController {
  constructor(private readonly draws: PrizeDrawService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Start a prize draw',
    description:
      'Starts the draw `id` with its prizes (the first listed is awarded first) and an optional duration, after which it takes no more entries. Replaces any earlier draw with that id, its entrants and winners included.',
  })
  @ApiSession({ roles: ['admin'] })
  @ApiAnswer(201, drawViewSchema, 'The draw, open')
  @ApiErrors(400, 429)
  start(@Body() body: StartDrawBody): Promise<DrawView> {
    return this.draws.start(body);
  }

  @Public()
  @Get(':id')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'A prize draw and its state (NO_DRAW for one never started)' })
  @ApiAnswer(200, drawViewSchema, 'The draw')
  @ApiErrors(400, 429, 503)
  get(@Param() { id }: DrawParams): Promise<DrawView> {
    return this.draws.get(id);
  }

  @Public()
  @Post(':id/entries')
  @ApiOperation({
    summary: 'Enter a prize draw with a GitHub user name',
    description:
      'The GitHub id is validated, lower-cased and looked up at GITHUB_API_URL (3 s at most; profiles are cached for an hour). One entry per GitHub id.',
  })
  @ApiAnswer(201, entrantProfileSchema, 'Entered')
  @ApiErrors(400)
  @ApiError(403, 'DRAW_CLOSED', 'the draw is closed and takes no more entries')
  @ApiError(404, 'NOT_FOUND', 'no such GitHub user, or no such draw')
  @ApiError(409, 'ALREADY_ENTERED', 'this GitHub id has already entered the draw')
  @ApiErrors(429)
  @ApiError(503, 'UNAVAILABLE', 'GitHub failed or did not answer in time, or Redis is unreachable')
  enter(@Param() { id }: DrawParams, @Body() body: EnterDrawBody): Promise<EntrantProfile> {
    return this.draws.enter(id, body.githubId);
  }

  @Post(':id/close')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Close a prize draw to new entries (closing a closed one changes nothing)',
  })
  @ApiSession({ roles: ['admin'] })
  @ApiAnswer(204, null, 'Closed')
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'no such draw')
  @ApiErrors(429)
  async close(@Param() { id }: DrawParams): Promise<void> {
    await this.draws.close(id);
  }

  @Post(':id/winners')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: "Pick a prize draw's winners",
    description:
      'Closes the draw and gives each prize, in order, to an entrant drawn at random, once: every later call, on any instance, answers the same winners. Prizes left when entrants run out stay unwon.',
  })
  @ApiSession({ roles: ['admin'] })
  @ApiAnswer(200, winnersSchema, 'The winners')
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'no such draw')
  @ApiErrors(429)
  pickWinners(@Param() { id }: DrawParams): Promise<Winner[]> {
    return this.draws.pickWinners(id);
  }

  @Public()
  @Get(':id/winners')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A prize draw's winners, once picked" })
  @ApiAnswer(200, winnersSchema, 'The winners')
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'no such draw, or its winners are not picked yet')
  @ApiErrors(429, 503)
  winners(@Param() { id }: DrawParams): Promise<Winner[]> {
    return this.draws.winners(id);
  }
}
