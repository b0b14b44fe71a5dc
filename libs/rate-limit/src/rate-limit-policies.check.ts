import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RATE_LIMIT_POLICY } from './rate-limit.decorators';
import { RateLimitService } from './rate-limit.service';

/**
 * Fails the app's start when a @RateLimit names a policy that is not
 * declared, so a typo is found before the first request rather than by it.
 */
@Injectable()
export class RateLimitPoliciesCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as (() => void) | undefined;
      if (!controller?.prototype) continue;
      const targets: (() => void)[] = [controller];
      for (const method of this.scanner.getAllMethodNames(controller.prototype)) {
        targets.push((controller.prototype as Record<string, () => void>)[method]);
      }
      for (const target of targets) {
        const names = this.reflector.get<string[] | undefined>(RATE_LIMIT_POLICY, target);
        for (const name of names ?? []) this.limiter.registry.get(name);
      }
    }
  }
}
