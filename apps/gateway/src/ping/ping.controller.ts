import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Public } from '@lattice/common';
import { ApiAnswer, ApiErrors } from '@lattice/api';

@ApiTags('gateway')
@Public()
@Controller('api/ping')
export class PingController {
  @Get()
  @ApiOperation({ summary: 'Ping the gateway (rate-limited like any route)' })
  @ApiAnswer(200, z.object({ pong: z.literal(true) }), 'The gateway answers')
  @ApiErrors(429)
  ping(): { pong: true } {
    return { pong: true };
  }
}
