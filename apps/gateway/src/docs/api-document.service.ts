import { Injectable, Logger, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { buildGatewayDocument } from './gateway-document';

/**
 * The OpenAPI document, built once at start-up from the controllers this
 * gateway actually registers (found through Nest's discovery, so a new
 * feature module's routes appear without being listed) plus those of the
 * auth and realtime apps, and kept as JSON text.
 */
@Injectable()
export class ApiDocument implements OnApplicationBootstrap {
  private readonly logger = new Logger('ApiDocument');
  private text: string | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    const controllers = new Set<Type>();
    for (const wrapper of this.discovery.getControllers()) {
      if (typeof wrapper.metatype === 'function') controllers.add(wrapper.metatype as Type);
    }
    const document = buildGatewayDocument([...controllers]);
    this.text = JSON.stringify(document);
    this.logger.log(`OpenAPI document ready: ${Object.keys(document.paths).length} paths`);
  }

  /** The document as JSON text. */
  get json(): string {
    if (this.text === undefined) throw new Error('The OpenAPI document is built at start-up');
    return this.text;
  }
}
