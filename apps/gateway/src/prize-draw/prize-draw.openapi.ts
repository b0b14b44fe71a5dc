import { z } from 'zod';
import { DRAW_STATES } from './prize-draw.types';

/** The answers of the prize-draw API, for the OpenAPI document (the code's types say the same). */

export const drawViewSchema = z
  .object({
    id: z.string(),
    state: z.enum(DRAW_STATES),
    prizes: z.array(z.string()).describe('Prizes not yet won, in the order the admin gave them'),
    entrants: z.number().int().describe('How many entered, winners included'),
    closesAt: z
      .string()
      .nullable()
      .describe(
        'ISO 8601: when an open draw closes (null without a duration), or when a closed one closed',
      ),
  })
  .describe('A prize draw');

export const winnersSchema = z
  .array(
    z.object({
      name: z.string().describe("The winner's GitHub display name (the login without one)"),
      prize: z.string(),
      image: z.string().describe("The winner's avatar URL (empty when GitHub gave none)"),
    }),
  )
  .describe('The winners, in the order of the prizes');

export const entrantProfileSchema = z
  .object({
    githubId: z.string().describe('The lower-cased GitHub id the entry is recorded under'),
    login: z.string().describe('The login as GitHub spells it'),
    name: z.string(),
    image: z.string(),
    url: z.string().nullable(),
  })
  .describe("The entrant's GitHub profile");
