import { createReadStream } from 'node:fs';
import { Controller, Get, Header, Param, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NotFoundError, Public } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors } from '@lattice/api';
import { ApiDocumentSource } from './api-document.source';
import {
  SWAGGER_UI_ASSETS,
  swaggerUiAsset,
  swaggerUiInitScript,
  swaggerUiPage,
} from './swagger-ui.assets';

const BASE = '/docs';
const PAGE = swaggerUiPage({ title: 'Lattice API', base: BASE });
const INIT_SCRIPT = swaggerUiInitScript(`${BASE}/json`);

/**
 * GET /docs/json (the OpenAPI document) and GET /docs (Swagger UI, its
 * assets served from this process), in every app. Public, and rate-limited
 * like any route.
 */
@ApiTags('docs')
@Public()
@Controller('docs')
export class DocsController {
  constructor(private readonly document: ApiDocumentSource) {}

  @Get('json')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'This OpenAPI document' })
  @ApiAnswer(200, { type: 'object', description: 'An OpenAPI 3.0 document' }, 'The document')
  @ApiErrors(429)
  json(): Promise<string> {
    return this.document.json();
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'The Swagger UI page of this document' })
  @ApiAnswer(200, { type: 'string' }, 'An HTML page', { contentType: 'text/html' })
  @ApiErrors(429)
  page(): string {
    return PAGE;
  }

  @Get('swagger-ui-init.js')
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'The script that starts Swagger UI on the page' })
  @ApiAnswer(200, { type: 'string' }, 'JavaScript', { contentType: 'application/javascript' })
  @ApiErrors(429)
  initScript(): string {
    return INIT_SCRIPT;
  }

  @Get(':asset')
  @Header('Cache-Control', 'public, max-age=3600')
  @ApiOperation({ summary: 'A Swagger UI file the page loads (served from this process)' })
  @ApiParam({ name: 'asset', enum: Object.keys(SWAGGER_UI_ASSETS) })
  @ApiAnswer(200, { type: 'string', format: 'binary' }, 'The file', {
    contentType: 'application/octet-stream',
  })
  @ApiError(404, 'NOT_FOUND', 'not a Swagger UI file')
  @ApiErrors(429)
  asset(@Param('asset') name: string): StreamableFile {
    const asset = swaggerUiAsset(name);
    if (!asset) throw new NotFoundError('No such route or resource');
    return new StreamableFile(createReadStream(asset.file), { type: asset.contentType });
  }
}
