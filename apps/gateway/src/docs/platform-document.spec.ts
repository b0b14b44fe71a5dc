import type { OpenAPIObject } from '@nestjs/swagger';
import { mergeDocuments } from './platform-document';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function documentOf(
  paths: Record<string, string>,
  schemas: Record<string, object>,
  tags: string[],
): OpenAPIObject {
  return {
    openapi: '3.0.3',
    info: { title: 'T', version: '1', description: 'About.' },
    tags: tags.map((name) => ({ name, description: `${name} here` })),
    paths: Object.fromEntries(
      Object.entries(paths).map(([path, tag]) => [
        path,
        { get: { tags: [tag], responses: { 200: { description: 'ok' } }, body: ref('Item') } },
      ]),
    ),
    components: { schemas },
  } as unknown as OpenAPIObject;
}

describe('mergeDocuments', () => {
  const own = documentOf(
    { '/api/ping': 'gateway', '/health/live': 'health' },
    { Item: { type: 'string' } },
    ['gateway', 'health'],
  );

  it("takes an app's paths under its prefix, with the tags they use, and renames a schema that differs", () => {
    const auth = documentOf(
      { '/auth/login': 'accounts', '/health/live': 'health' },
      { Item: { type: 'integer' } },
      ['accounts', 'health'],
    );
    const merged = mergeDocuments(own, [{ app: 'auth', prefix: '/auth', document: auth }]);
    expect(Object.keys(merged.paths)).toEqual(['/api/ping', '/health/live', '/auth/login']);
    expect(merged.paths['/health/live']).toEqual(own.paths['/health/live']);
    expect(merged.tags!.map((tag) => tag.name)).toEqual(['accounts', 'gateway', 'health']);
    expect(merged.paths['/auth/login']!.get).toMatchObject({ body: ref('auth_Item') });
    expect(merged.components!.schemas).toEqual({
      Item: { type: 'string' },
      auth_Item: { type: 'integer' },
    });
    expect(merged.info).toEqual(own.info);
  });

  it('says which apps are missing, and keeps its own routes, when an app has no document', () => {
    const merged = mergeDocuments(own, [{ app: 'auth', prefix: '/auth' }]);
    expect(Object.keys(merged.paths)).toEqual(['/api/ping', '/health/live']);
    expect(merged.info.description).toMatch(
      /^\*\*Incomplete\.\*\* The routes of the auth app are missing/,
    );
    expect((merged.info as { 'x-missing-apps'?: string[] })['x-missing-apps']).toEqual(['auth']);
  });
});
