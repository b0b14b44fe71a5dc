import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ApiDocument } from './api-document.service';
import { DocsController } from './docs.controller';

/** The OpenAPI document of the platform at GET /docs/json and its Swagger UI page at /docs. */
@Module({
  imports: [DiscoveryModule],
  controllers: [DocsController],
  providers: [ApiDocument],
})
export class DocsModule {}
