/**
 * The form parameters Twilio posts for an inbound WhatsApp message, validated; everything else is kept raw. Every
 * value (and name) is cleaned of what PostgreSQL cannot store (http/safe-text.ts) rather than refused: Twilio does
 * not retry a refused message webhook, so a 4xx or 5xx here would lose the customer's message.
 */
import { z } from 'zod';
import type { MediaItem } from '../db/entities/message';
import { cleanedText, cleanText } from '../http/safe-text';

/** Twilio repeats no inbound parameter, but a hand-made request may; keep the first value. */
const single = z.preprocess((value) => (Array.isArray(value) ? value[0] : value), cleanedText());
const optionalSingle = z.preprocess((value) => (Array.isArray(value) ? value[0] : value), cleanedText().optional());

export const inboundParamsSchema = z.object({
  MessageSid: single.pipe(z.string().regex(/^(SM|MM)[0-9a-zA-Z]{32}$/, 'must be a Twilio message SID')),
  From: single.pipe(z.string().min(1).max(64)),
  To: single.pipe(z.string().min(1).max(64)),
  Body: optionalSingle.transform((value) => value ?? '').pipe(z.string().max(4096)),
  NumMedia: optionalSingle.pipe(
    z
      .string()
      .regex(/^\d{1,2}$/, 'must be a number')
      .transform(Number)
      .pipe(z.number().max(10))
      .optional(),
  ),
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
    media.push({ url: cleanText(url), contentType: typeof contentType === 'string' ? cleanText(contentType) : null });
  }
  return media;
}

/**
 * Form params as plain strings (repeats joined with commas), names and values cleaned, for raw_payload. A name
 * that only cleaning turned into another parameter's name never replaces that parameter's value.
 */
export function flattenParams(raw: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  const renamed: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(raw)) {
    const text = typeof value === 'string' ? value : Array.isArray(value) ? value.map(String).join(',') : undefined;
    if (text === undefined) continue;
    const name = cleanText(key);
    if (name === key) flat[name] = cleanText(text);
    else renamed.push([name, cleanText(text)]);
  }
  for (const [name, text] of renamed) if (!Object.hasOwn(flat, name)) flat[name] = text;
  return flat;
}

/** The names of the parameters whose name or value cleaning changed (cleaned themselves, so they can be logged). */
export function uncleanParamNames(raw: Record<string, unknown>): string[] {
  return Object.entries(raw)
    .filter(([key, value]) => cleanText(key) !== key || [value].flat().some((item) => typeof item === 'string' && cleanText(item) !== item))
    .map(([key]) => cleanText(key).slice(0, 64));
}
