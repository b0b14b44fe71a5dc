import { Controller, Get, Header, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { MetricsService } from './metrics.service';
import { Public } from '@lattice/common';

@ApiTags('metrics')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  // Scrapes are never rate-limited. This lib sits below @lattice/rate-limit (which
  // imports it through Redis), so it says so with the route config the guard honours.
  @RouteConfig({ rateLimit: false })
  @ApiOperation({ summary: 'Prometheus metrics of this instance (never rate-limited)' })
  @ApiOkResponse({
    description: 'The Prometheus text exposition format',
    content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
  })
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await reply.header('Content-Type', contentType).send(body);
  }
}
