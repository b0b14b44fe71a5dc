import type { OpenAPIObject, TagObject } from '@nestjs/swagger';

/** An app whose routes the gateway forwards under `prefix`, and its own document if it could be had. */
export interface UpstreamDocument {
  app: string;
  prefix: string;
  document?: OpenAPIObject;
}

/** The apps whose routes the gateway forwards at their own paths, under a prefix each. */
export const FORWARDED_APPS = [
  { app: 'auth', prefix: '/auth' },
  { app: 'realtime', prefix: '/realtime' },
] as const;

const SCHEMA_REF = '#/components/schemas/';

const underPrefix = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`);

/**
 * The platform's document: the gateway's own, plus each upstream app's paths
 * under the prefix the gateway forwards to it (their health, metrics and docs
 * routes are that app's, not the gateway's), with the schemas and tags they
 * use. A schema named alike in two documents but different is renamed
 * `<app>_<name>` on the upstream's side. An upstream without a document is
 * named at the top of the description and in `info['x-missing-apps']`, so
 * a reader (or a monitor) knows routes are missing.
 */
export function mergeDocuments(own: OpenAPIObject, upstreams: UpstreamDocument[]): OpenAPIObject {
  const schemas = { ...own.components?.schemas };
  const paths = { ...own.paths };
  const upstreamTags: TagObject[] = [];
  const missing: string[] = [];
  for (const upstream of upstreams) {
    if (!upstream.document) {
      missing.push(upstream.app);
      continue;
    }
    const theirs = upstream.document.components?.schemas ?? {};
    const renamed = new Map<string, string>();
    for (const [name, schema] of Object.entries(theirs)) {
      if (name in schemas && JSON.stringify(schemas[name]) !== JSON.stringify(schema)) {
        renamed.set(name, `${upstream.app}_${name}`);
      }
    }
    const rename = <T>(value: T): T => {
      if (renamed.size === 0) return value;
      const text = JSON.stringify(value).replace(
        /"#\/components\/schemas\/([^"]+)"/g,
        (ref, name: string) =>
          renamed.has(name) ? JSON.stringify(SCHEMA_REF + renamed.get(name)!) : ref,
      );
      return JSON.parse(text) as T;
    };
    for (const [name, schema] of Object.entries(theirs)) {
      schemas[renamed.get(name) ?? name] ??= rename(schema);
    }
    const used = new Set<string>();
    for (const [path, item] of Object.entries(upstream.document.paths)) {
      if (!underPrefix(path, upstream.prefix)) continue;
      paths[path] = rename(item);
      for (const operation of Object.values(item) as { tags?: string[] }[]) {
        for (const tag of operation?.tags ?? []) used.add(tag);
      }
    }
    upstreamTags.push(...(upstream.document.tags ?? []).filter((tag) => used.has(tag.name)));
  }
  // The upstreams' tags first (accounts before the gateway's own), each named once;
  // the gateway's description of a tag it shares with an app wins.
  const ownTags = new Map((own.tags ?? []).map((tag) => [tag.name, tag]));
  const tags = new Map<string, TagObject>();
  for (const tag of [...upstreamTags, ...(own.tags ?? [])]) {
    if (!tags.has(tag.name)) tags.set(tag.name, ownTags.get(tag.name) ?? tag);
  }
  const plural = missing.length > 1;
  const note = missing.length
    ? `**Incomplete.** The routes of the ${missing.join(' and ')} app${plural ? 's' : ''} are missing: ${plural ? 'their documents' : 'its document'} could not be fetched just now; reload to try again.\n\n`
    : '';
  return {
    ...own,
    info: {
      ...own.info,
      description: note + (own.info.description ?? ''),
      ...(missing.length ? { 'x-missing-apps': missing } : {}),
    },
    tags: [...tags.values()],
    paths,
    components: { ...own.components, schemas },
  };
}
