import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ApiDocument } from './api-document.service';
import { ApiDocumentSource } from './api-document.source';
import { DocsController } from './docs.controller';
import { API_DOCUMENT_INFO } from './docs.di-tokens';
import type { ApiDocumentInfo } from './openapi-document';

/**
 * The app's OpenAPI document at GET /docs/json and its Swagger UI page at
 * /docs. `source` replaces what /docs/json serves (the gateway's merge of
 * every app's document); it may inject ApiDocument, the app's own.
 */
@Module({})
export class DocsModule {
  static forRoot(
    info: ApiDocumentInfo,
    options: { source?: Type<ApiDocumentSource> } = {},
  ): DynamicModule {
    const source = options.source ?? ApiDocument;
    return {
      module: DocsModule,
      imports: [DiscoveryModule],
      controllers: [DocsController],
      providers: [
        { provide: API_DOCUMENT_INFO, useValue: info },
        ApiDocument,
        ...(source === ApiDocument ? [] : [source]),
        { provide: ApiDocumentSource, useExisting: source },
      ],
    };
  }
}
