import { Inject } from '@nestjs/common';
import { LockService } from './lock.service';
import type { AcquireOptions } from './lock.types';
import { compileResources, type ResourceSpec } from './resource.template';

export interface WithLockOptions extends AcquireOptions {
  /** The lease, renewed while the method runs. Default 10000. */
  ttlMs?: number;
}

/** Where the decorator has Nest inject the LockService, out of the way of the class's own fields. */
const LOCK_SERVICE = Symbol('LockService');

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/**
 * Runs the decorated async method of a Nest provider (or controller) under
 * `LockService.using`: the resources are built from the arguments
 * (`@WithLock('user:{login}')`, `{0}`, `{dto.id}`, or a function of the
 * arguments), the lock is renewed while the method runs, and the call rejects
 * with LOCK_LOST if it was lost meanwhile. Inside, `currentLock()` gives the
 * fencing token and the abort signal.
 */
export function WithLock(resources: ResourceSpec, options: WithLockOptions = {}): MethodDecorator {
  const { ttlMs = 10_000, ...acquireOptions } = options;
  return (target, propertyKey, descriptor) => {
    const original = descriptor.value as unknown as AnyMethod;
    const where = `${target.constructor.name}.${String(propertyKey)}`;
    if (typeof original !== 'function')
      throw new TypeError(`${where}: @WithLock decorates methods`);
    const resourcesFor = compileResources(resources, original, where);
    // Property injection: a method decorator cannot reach the constructor's parameters.
    Inject(LockService)(target, LOCK_SERVICE);
    const wrapped = function (this: Record<symbol, LockService | undefined>, ...args: unknown[]) {
      const service = this[LOCK_SERVICE];
      if (!service) {
        return Promise.reject(
          new Error(`${where}: @WithLock needs LockModule imported and the class built by Nest`),
        );
      }
      return service.using(
        resourcesFor(args),
        ttlMs,
        () => original.apply(this, args),
        acquireOptions,
      );
    };
    // Keep what other decorators (routes, guards) recorded on the original function.
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped as unknown as typeof descriptor.value;
    return descriptor;
  };
}
