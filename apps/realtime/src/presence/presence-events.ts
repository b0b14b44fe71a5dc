import { z } from 'zod';
import { MAX_JSON_DEPTH } from '@lattice/common';
import {
  channelNameSchema,
  isJsonValue,
  jsonBytes,
  metaSchema,
  type PresenceMember,
} from '@lattice/presence';

/** Largest `data` of a channel message, as JSON text. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Most channels one connection may be in at once. */
export const MAX_CHANNELS_PER_CONNECTION = 100;

/** Most messages one `channel:history` (or a join's `history`) returns. */
export const MAX_HISTORY_LIMIT = 1000;

const historyCount = z.number().int().min(0).max(MAX_HISTORY_LIMIT);

export const joinPayload = z.strictObject({
  channel: channelNameSchema,
  meta: metaSchema.optional(),
  /** The last this many messages of the channel, in the acknowledgement's `messages`. */
  history: historyCount.optional(),
});
export const historyPayload = z.strictObject({
  channel: channelNameSchema,
  /** An offset: only messages after it. */
  since: z
    .string()
    .regex(/^\d{1,16}$/, { message: 'must be an offset (up to 16 digits)' })
    .optional(),
  limit: historyCount.min(1).optional(),
});
export const leavePayload = z.strictObject({ channel: channelNameSchema });
export const updatePayload = z.strictObject({ channel: channelNameSchema, meta: metaSchema });
export const messagePayload = z.strictObject({
  channel: channelNameSchema,
  data: z.custom<unknown>(
    (value) => value !== undefined && isJsonValue(value) && jsonBytes(value) <= MAX_MESSAGE_BYTES,
    {
      message: `must be JSON of at most ${MAX_MESSAGE_BYTES} bytes, nested at most ${MAX_JSON_DEPTH} levels`,
    },
  ),
});

/** What a channel's members receive as `channel:message`. */
export interface ChannelMessage {
  channel: string;
  from: { userId: string; login: string };
  data: unknown;
  /** When this server accepted the message (ISO 8601). */
  sentAt: string;
  /** The channel's offset of the message (the sequence its presence events share). */
  offset: string;
}

/** Every acknowledgement: success, or a stable error code with a message. */
export type Ack =
  | { ok: true; members?: PresenceMember[]; offset?: string; messages?: ChannelMessage[] }
  | {
      ok: false;
      code: string;
      message: string;
      details?: unknown;
      retryAfterSeconds?: number;
    };
