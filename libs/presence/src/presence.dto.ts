import { z } from 'zod';
import { ZodDto } from '@lattice/api';
import { channelNameSchema } from './presence-input';

/** The `:channel` path parameter of the presence listing routes. */
export class PresenceChannelParams extends ZodDto(z.strictObject({ channel: channelNameSchema })) {}
