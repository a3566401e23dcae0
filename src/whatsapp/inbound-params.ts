/** The form parameters Twilio posts for an inbound WhatsApp message, validated; everything else is kept raw. */
import { z } from 'zod';
import type { MediaItem } from '../db/entities/message';

/** Twilio repeats no inbound parameter, but a hand-made request may; keep the first value. */
const single = z.preprocess((value) => (Array.isArray(value) ? value[0] : value), z.string());
const optionalSingle = z.preprocess((value) => (Array.isArray(value) ? value[0] : value), z.string().optional());

export const inboundParamsSchema = z.object({
  MessageSid: single.pipe(z.string().regex(/^(SM|MM)[0-9a-zA-Z]{32}$/, 'must be a Twilio message SID')),
  From: single.pipe(z.string().min(1).max(64)),
  To: single.pipe(z.string().min(1).max(64)),
  Body: optionalSingle.transform((value) => value ?? '').pipe(z.string().max(4096)),
  NumMedia: optionalSingle.pipe(z.string().regex(/^\d{1,2}$/, 'must be a number').transform(Number).pipe(z.number().max(10)).optional()),
  ProfileName: optionalSingle.pipe(z.string().max(200).optional()),
  WaId: optionalSingle.pipe(z.string().max(32).optional()),
  ButtonPayload: optionalSingle.pipe(z.string().max(1024).optional()),
  ButtonText: optionalSingle.pipe(z.string().max(256).optional()),
  OriginalRepliedMessageSid: optionalSingle.pipe(z.string().max(64).optional()),
  MessageType: optionalSingle.pipe(z.string().max(32).optional()),
  AccountSid: optionalSingle,
});

export type InboundParams = z.infer<typeof inboundParamsSchema>;

/** MediaUrl0..N with their content types. */
export function readMedia(raw: Record<string, unknown>, count: number): MediaItem[] {
  const media: MediaItem[] = [];
  for (let index = 0; index < count; index += 1) {
    const url = raw[`MediaUrl${index}`];
    if (typeof url !== 'string') continue;
    const contentType = raw[`MediaContentType${index}`];
    media.push({ url, contentType: typeof contentType === 'string' ? contentType : null });
  }
  return media;
}

/** Form params as plain strings (first value of repeats), for raw_payload. */
export function flattenParams(raw: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string') flat[key] = value;
    else if (Array.isArray(value)) flat[key] = value.map(String).join(',');
  }
  return flat;
}
