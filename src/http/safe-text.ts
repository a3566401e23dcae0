/**
 * The one string schema for text that reaches the database. PostgreSQL refuses NUL (U+0000) in text and jsonb
 * (SQLSTATE 22021 / 22P05), and a lone UTF-16 surrogate (possible in a JSON "\ud800" escape) is not Unicode at all:
 * the pg driver would silently store U+FFFD in its place. APIs refuse both with a 400 on the field (safeText);
 * Twilio's webhooks, whose messages must never be lost to a 400 Twilio does not retry, clean them instead
 * (cleanedText, cleanText).
 */
import { z } from 'zod';

// A high surrogate not followed by a low one, or a low one not preceded by a high one (String#isWellFormed is ES2024).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);
const SURROGATE = /[\uD800-\uDFFF]/;

/** The text with NUL removed and each lone surrogate replaced by U+FFFD: always storable, otherwise unchanged. */
export function cleanText(text: string): string {
  // The webhook's hot path: nearly every parameter has neither, and is returned as it is.
  const withoutNul = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return SURROGATE.test(withoutNul) ? withoutNul.replace(LONE_SURROGATE, '\uFFFD') : withoutNul;
}

/** A string schema refusing NUL and lone surrogates, each with its own message; chain trim(), min(), max() on it. */
export function safeText() {
  return z
    .string()
    .refine((text) => !text.includes('\u0000'), { message: 'must not contain NUL characters (U+0000)', abort: true })
    .refine((text) => !HAS_LONE_SURROGATE.test(text), { message: 'must not contain unpaired surrogates (invalid Unicode)', abort: true });
}

/** A string schema that removes NUL and replaces lone surrogates (cleanText) before any later check. */
export function cleanedText() {
  return z.string().overwrite(cleanText);
}
