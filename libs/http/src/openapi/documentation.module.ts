import type { DynamicModule, InjectionToken, Type } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PARAMTYPES_METADATA,
  PIPES_METADATA,
  PROPERTY_DEPS_METADATA,
  SELF_DECLARED_DEPS_METADATA,
} from '@nestjs/common/constants';

const ENHANCERS = [
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  EXCEPTION_FILTERS_METADATA,
] as const;

const tokenOf = (dependency: unknown): unknown =>
  typeof dependency === 'object' && dependency !== null && 'forwardRef' in dependency
    ? (dependency as { forwardRef: () => unknown }).forwardRef()
    : dependency;

/** What Nest would inject into a class: constructor parameters (with @Inject overrides) and properties. */
function dependenciesOf(type: Type): unknown[] {
  const parameters: unknown[] = [
    ...((Reflect.getMetadata(PARAMTYPES_METADATA, type) as unknown[]) ?? []),
  ];
  const declared = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, type) ?? []) as {
    index: number;
    param: unknown;
  }[];
  for (const { index, param } of declared) parameters[index] = param;
  const properties = (Reflect.getMetadata(PROPERTY_DEPS_METADATA, type) ?? []) as {
    type: unknown;
  }[];
  return [...parameters, ...properties.map((property) => property.type)].map(tokenOf);
}

/** Guards, interceptors, pipes and filters a controller names by class, on itself or its handlers. */
function enhancersOf(controller: Type): Type[] {
  const handlers = Object.getOwnPropertyNames(controller.prototype)
    .map((name) => Object.getOwnPropertyDescriptor(controller.prototype, name)?.value as unknown)
    .filter((value): value is object => typeof value === 'function');
  return [controller, ...handlers]
    .flatMap((target) =>
      ENHANCERS.flatMap((key) => (Reflect.getMetadata(key, target) ?? []) as unknown[]),
    )
    .filter((enhancer): enhancer is Type => typeof enhancer === 'function');
}

/**
 * A module holding `controllers` for documentation only, to be created in
 * preview mode (`NestFactory.create(module, adapter, { preview: true })`):
 * Nest then instantiates nothing, but it still checks that every dependency
 * of the controllers (and of the guards they use) has a provider. Each one is
 * bound here to an empty placeholder, which preview mode never hands to
 * anything, so controllers of other apps can be documented without their
 * services, Redis or configuration.
 */
export function documentationModule(controllers: readonly Type[]): DynamicModule {
  const tokens = new Set<unknown>();
  for (const controller of controllers) {
    for (const type of [controller, ...enhancersOf(controller)]) {
      for (const token of dependenciesOf(type)) if (token !== undefined) tokens.add(token);
    }
  }
  class OpenApiDocumentationModule {}
  return {
    module: OpenApiDocumentationModule,
    controllers: [...new Set(controllers)],
    providers: [...tokens].map((token) => ({ provide: token as InjectionToken, useValue: {} })),
  };
}
