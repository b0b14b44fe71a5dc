import { Inject, Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ConfigService } from '@lattice/config';
import { ApiDocumentSource } from './api-document.source';
import { API_DOCUMENT_INFO } from './docs.di-tokens';
import { buildAppDocument, type ApiDocumentInfo } from './openapi-document';

/**
 * The app's own OpenAPI document, built once at start-up from the controllers
 * this app actually registers (found through Nest's discovery, so a new
 * feature module's routes appear without being listed), and kept as JSON
 * text. A document that cannot be built stops the app from starting.
 */
@Injectable()
export class ApiDocument extends ApiDocumentSource implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiDocument');
  private built: { document: OpenAPIObject; text: string } | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly config: ConfigService,
    @Inject(API_DOCUMENT_INFO) private readonly info: ApiDocumentInfo,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const controllers = new Set<Type>();
    for (const wrapper of this.discovery.getControllers()) {
      if (typeof wrapper.metatype === 'function') controllers.add(wrapper.metatype as Type);
    }
    const document = buildAppDocument(this.config.get('app'), this.info, [...controllers]);
    this.built = { document, text: JSON.stringify(document) };
    this.logger.log(`OpenAPI document ready: ${Object.keys(document.paths).length} paths`);
  }

  /** The document (not to be changed). */
  get document(): OpenAPIObject {
    if (this.built === undefined) throw new Error('The OpenAPI document is built at start-up');
    return this.built.document;
  }

  json(): Promise<string> {
    if (this.built === undefined) throw new Error('The OpenAPI document is built at start-up');
    return Promise.resolve(this.built.text);
  }
}
