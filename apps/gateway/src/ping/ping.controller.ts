import { Controller, Get } from '@nestjs/common';
import { Public } from '@lattice/common';

@Public()
@Controller('api/ping')
export class PingController {
  @Get()
  ping(): { pong: true } {
    return { pong: true };
  }
}
