import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ValidationFailedError } from '@lattice/common';
import { issuesSummary, zodIssues } from './validation-issues';

const WHERE: Record<ArgumentMetadata['type'], string> = {
  body: 'request body',
  query: 'query string',
  param: 'path',
  custom: 'input',
};

function schemaOf(metatype: unknown): z.ZodType | undefined {
  const schema = (metatype as { schema?: z.ZodType } | undefined)?.schema;
  return schema && typeof schema.safeParse === 'function' ? schema : undefined;
}

/** Validates every parameter whose type was made with ZodDto; others pass through. */
@Injectable()
export class ZodValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const schema = schemaOf(metadata.metatype);
    if (!schema) return value;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const details = zodIssues(result.error);
    throw new ValidationFailedError(
      `Invalid ${WHERE[metadata.type]}: ${issuesSummary(details)}`,
      details,
    );
  }
}
