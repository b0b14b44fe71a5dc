import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors } from '@lattice/api';
import { DrawAssets } from './draw.assets';
import { AssetParams } from './prize-draw.dto';

/**
 * The draw's pages (CONTRACT 4.3): the entry page at /draw (`?id=<draw>`,
 * `main` when absent) and the admin page at /draw/admin, with their assets.
 */
@ApiTags('prize-draws')
@Public()
@Controller('draw')
export class DrawPagesController {
  constructor(private readonly assets: DrawAssets) {}

  @Get()
  @ApiOperation({ summary: 'The prize-draw entry page (?id=<draw>, the draw main without)' })
  @ApiAnswer(200, { type: 'string' }, 'An HTML page', { contentType: 'text/html' })
  @ApiErrors(429)
  entry(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.assets.sendPage('draw.html', request, reply);
  }

  @Get('admin')
  @ApiOperation({ summary: 'The prize-draw admin page (sign in as an admin there)' })
  @ApiAnswer(200, { type: 'string' }, 'An HTML page', { contentType: 'text/html' })
  @ApiErrors(429)
  admin(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.assets.sendPage('admin.html', request, reply);
  }

  @Get('assets/:name')
  @ApiOperation({
    summary: 'A file the draw pages load (Bulma, the Socket.IO client, their own CSS and JS)',
  })
  @ApiAnswer(200, { type: 'string', format: 'binary' }, 'The file', {
    contentType: 'application/octet-stream',
  })
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'not a file of the draw pages')
  @ApiErrors(429)
  asset(
    @Param() { name }: AssetParams,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): void {
    this.assets.sendAsset(name, request, reply);
  }
}
