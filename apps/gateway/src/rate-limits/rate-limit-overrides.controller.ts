import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { NotFoundError } from '@lattice/common';
import { ApiAnswer, ApiError, ApiErrors, ApiSession } from '@lattice/api';
import { RateLimitOverrides, type RateLimitOverride } from '@lattice/rate-limit';
import { Roles } from '@lattice/session';
import { OverrideBody, OverrideParams } from './rate-limit-overrides.dto';

const overrideSchema = z
  .object({
    policy: z.string(),
    selector: z.string().describe('user:<id>, role:<role> or key:<counted key>'),
    limit: z.number().int().optional().describe('The limit itself, or ...'),
    factor: z.number().optional().describe('... a multiple of the declared limit'),
  })
  .describe('A rate-limit override');

/**
 * Per-identity rate limits (tiers), changed at run time and in force on every
 * instance of every app at once (docs/rate-limit.md, Overrides). Admins only.
 */
@ApiTags('rate-limits')
@Controller('api/rate-limits/overrides')
@Roles('admin')
export class RateLimitOverridesController {
  constructor(private readonly overrides: RateLimitOverrides) {}

  @Get()
  @ApiSession({ roles: ['admin'] })
  @ApiOperation({ summary: 'Every rate-limit override' })
  @ApiAnswer(200, z.object({ overrides: z.array(overrideSchema) }), 'The overrides')
  @ApiErrors(429, 503)
  async list(): Promise<{ overrides: RateLimitOverride[] }> {
    return { overrides: await this.overrides.list() };
  }

  @Put(':policy/:selector')
  @ApiSession({ roles: ['admin'] })
  @ApiOperation({
    summary: "Set a policy's limit for a user, a role or one counter",
    description:
      'Replaces any override of the same policy and selector. In force on every instance within milliseconds; on this one before the answer. The most specific override wins (key, then user, then the most generous role).',
  })
  @ApiAnswer(200, overrideSchema, 'The override, as stored')
  @ApiErrors(400, 429, 503)
  async set(
    @Param() { policy, selector }: OverrideParams,
    @Body() body: OverrideBody,
  ): Promise<RateLimitOverride> {
    const override = { policy, selector, ...body };
    await this.overrides.set(override);
    return override;
  }

  @Delete(':policy/:selector')
  @ApiSession({ roles: ['admin'] })
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an override: the declared limit applies again' })
  @ApiAnswer(204, null, 'Removed')
  @ApiErrors(400)
  @ApiError(404, 'NOT_FOUND', 'no such override')
  @ApiErrors(429, 503)
  async remove(@Param() { policy, selector }: OverrideParams): Promise<void> {
    if (!(await this.overrides.delete(policy, selector))) {
      throw new NotFoundError('No such rate-limit override');
    }
  }
}
