import {
  RequestMethod,
  type DynamicModule,
  type ForwardReference,
  type Type,
} from '@nestjs/common';
import { METHOD_METADATA, MODULE_METADATA, PATH_METADATA } from '@nestjs/common/constants';

export interface RouteEntry {
  /** Lower case, as in an OpenAPI path item: `get`, `post`, ... (`all` for @All). */
  method: string;
  /** As in an OpenAPI document: `/auth/sessions/{id}`. */
  path: string;
  controller: Type;
  handler: string;
}

type ModuleImport = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

const isDynamic = (value: object): value is DynamicModule => 'module' in value;

/**
 * Every controller a module registers, its imports' included (dynamic
 * modules, forward references and async imports alike), read from Nest's
 * module metadata without creating anything.
 */
export async function controllersOf(root: ModuleImport): Promise<Type[]> {
  const seen = new Set<unknown>();
  const controllers = new Set<Type>();
  const visit = async (entry: ModuleImport | undefined): Promise<void> => {
    if (!entry) return;
    const resolved: Type | DynamicModule = await (typeof entry === 'object' && 'forwardRef' in entry
      ? (entry.forwardRef() as Type | DynamicModule)
      : entry);
    if (seen.has(resolved)) return;
    seen.add(resolved);
    const type = isDynamic(resolved) ? resolved.module : resolved;
    const declared = (key: string): unknown[] =>
      (Reflect.getMetadata(key, type) ?? []) as unknown[];
    const own: Partial<DynamicModule> = isDynamic(resolved) ? resolved : {};
    for (const controller of [...declared(MODULE_METADATA.CONTROLLERS), ...(own.controllers ?? [])])
      controllers.add(controller as Type);
    for (const child of [...declared(MODULE_METADATA.IMPORTS), ...(own.imports ?? [])])
      await visit(child as ModuleImport);
  };
  await visit(root);
  return [...controllers];
}

const asList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : [value === undefined ? '' : String(value)];

function joinPath(...parts: string[]): string {
  const path = `/${parts.join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Every route of these controllers, from Nest's route metadata. */
export function routesOf(controllers: readonly Type[]): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const controller of controllers) {
    const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller));
    for (const handler of Object.getOwnPropertyNames(controller.prototype)) {
      const target = Object.getOwnPropertyDescriptor(controller.prototype, handler)
        ?.value as unknown;
      if (typeof target !== 'function' || handler === 'constructor') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, target) as RequestMethod | undefined;
      const paths = Reflect.getMetadata(PATH_METADATA, target) as unknown;
      if (method === undefined || paths === undefined) continue;
      for (const prefix of prefixes) {
        for (const path of asList(paths)) {
          routes.push({
            method: RequestMethod[method].toLowerCase(),
            path: joinPath(prefix, path),
            controller,
            handler,
          });
        }
      }
    }
  }
  return routes;
}
