import {
  Body,
  Controller,
  Get,
  Injectable,
  Logger,
  Module,
  Param,
  Post,
  Query,
  UseGuards,
  type CanActivate,
} from '@nestjs/common';
import type { OpenAPIObject, ParameterObject, SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, ApiErrors, ApiSession, toOpenApiSchema, ZodDto } from '@lattice/api';
import { buildOpenApiDocument } from './openapi-document';
import { controllersOf, routesOf } from './route-inventory';

const itemSchema = z.strictObject({
  name: z.string().min(1).max(20),
  tags: z.array(z.enum(['a', 'b'])).optional(),
});

class ItemBody extends ZodDto(itemSchema) {}
class ItemListBody extends ZodDto(z.array(itemSchema).min(1)) {}
class ItemParams extends ZodDto(
  z.strictObject({ shop: z.string().regex(/^[a-z]+$/), id: z.string().max(8) }),
) {}
class PageQuery extends ZodDto(
  z.strictObject({ page: z.string().regex(/^\d+$/).optional(), size: z.string() }),
) {}

/** A service nothing here provides: a documentation module must not need it. */
@Injectable()
class Unreachable {}

@Injectable()
class NeedsAService implements CanActivate {
  constructor(readonly service: Unreachable) {}
  canActivate(): boolean {
    return true;
  }
}

@Controller('items')
@UseGuards(NeedsAService)
class ItemsController {
  constructor(readonly service: Unreachable) {}

  @Post()
  @ApiSession()
  @ApiAnswer(201, itemSchema, 'The item')
  @ApiErrors(400)
  create(@Body() body: ItemBody): unknown {
    return body;
  }

  @Post('bulk')
  bulk(@Body() body: ItemListBody): unknown {
    return body;
  }

  @Get(':shop/:id')
  @ApiAnswer(204, null, 'Nothing')
  read(@Param() params: ItemParams, @Query() query: PageQuery): unknown {
    return { params, query };
  }
}

@Module({ controllers: [ItemsController] })
class ItemsModule {}

const schemaAt = (document: OpenAPIObject, ref: unknown): SchemaObject => {
  const name = String((ref as { $ref: string }).$ref).replace('#/components/schemas/', '');
  return document.components!.schemas![name] as SchemaObject;
};

describe('buildOpenApiDocument', () => {
  let document: OpenAPIObject;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    document = buildOpenApiDocument({
      title: 'Test',
      version: '1',
      description: 'A test',
      controllers: [ItemsController],
    });
  });

  it('needs none of the dependencies of the controllers and their guards', () => {
    expect(Object.keys(document.paths).sort()).toEqual([
      '/items',
      '/items/bulk',
      '/items/{shop}/{id}',
    ]);
  });

  it('describes a ZodDto body as a component equal to its zod schema', () => {
    const body = document.paths['/items']!.post!.requestBody as {
      content: Record<string, { schema: unknown }>;
    };
    const component = schemaAt(document, body.content['application/json']!.schema);
    expect(component).toEqual(toOpenApiSchema(itemSchema, 'input'));
    expect(component).toMatchObject({ required: ['name'], additionalProperties: false });
    const list = document.paths['/items/bulk']!.post!.requestBody as {
      content: Record<string, { schema: unknown }>;
    };
    expect(schemaAt(document, list.content['application/json']!.schema)).toMatchObject({
      type: 'array',
      minItems: 1,
      items: { required: ['name'], additionalProperties: false },
    });
  });

  it('turns ZodDto params and queries into one parameter per property', () => {
    const parameters = document.paths['/items/{shop}/{id}']!.get!.parameters as ParameterObject[];
    expect(parameters).toEqual([
      { name: 'shop', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } },
      { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 8 } },
      { name: 'page', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d+$' } },
      { name: 'size', in: 'query', required: true, schema: { type: 'string' } },
    ]);
  });

  it('documents answers, errors and sessions from the decorators', () => {
    const create = document.paths['/items']!.post!;
    expect(create.security).toEqual([{ sid: [] }, { bearer: [] }]);
    expect(create.responses['201']).toMatchObject({
      content: { 'application/json': { schema: toOpenApiSchema(itemSchema, 'output') } },
    });
    for (const status of ['400', '401', '503']) {
      expect(create.responses[status]).toMatchObject({
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
      });
    }
    expect(document.paths['/items/{shop}/{id}']!.get!.responses['204']).toEqual({
      description: 'Nothing',
    });
    expect(document.components!.securitySchemes).toMatchObject({
      sid: { type: 'apiKey', in: 'cookie', name: 'sid' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
  });

  it('refuses an error status it has no meaning for', () => {
    expect(() => ApiErrors(418)).toThrow(/418/);
  });
});

describe('route inventory', () => {
  it('lists the routes of every controller a module tree registers', async () => {
    const controllers = await controllersOf({ module: class Root {}, imports: [ItemsModule] });
    expect(controllers).toEqual([ItemsController]);
    expect(routesOf(controllers).map((r) => `${r.method} ${r.path}`)).toEqual([
      'post /items',
      'post /items/bulk',
      'get /items/{shop}/{id}',
    ]);
  });
});
