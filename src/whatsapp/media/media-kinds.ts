/**
 * The media a customer can send and what Parley accepts of each kind: the content types (Twilio's
 * MediaContentTypeN, checked again on the downloaded response) and the largest download.
 */

export type MediaKind = 'audio' | 'image' | 'document' | 'other';

/** A voice note and other audio: transcribed before the agent runs. */
export const AUDIO_TYPES = ['audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/amr'] as const;
/** A photo: shown to a vision-capable model with its caption. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** A document: its text is read and given to the agent (whatsapp/media/customer-document.ts). */
export const DOCUMENT_TYPES = ['application/pdf'] as const;

/**
 * The largest download of each kind: WhatsApp's own caps for audio (16 MB) and images (5 MB). A PDF is read in this
 * process (PDF.js), so it gets the knowledge uploads' 10 MB; a larger one is answered politely and flagged.
 */
export const MAX_MEDIA_BYTES: Readonly<Record<Exclude<MediaKind, 'other'>, number>> = {
  audio: 16 * 1024 * 1024,
  image: 5 * 1024 * 1024,
  document: 10 * 1024 * 1024,
};

/** The media type without parameters, lower case ("audio/ogg; codecs=opus" -> "audio/ogg"). */
export function bareMediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** The kind of a declared content type; anything not accepted (video, vCard, location) is `other`. */
export function mediaKindOf(contentType: string | null | undefined): MediaKind {
  const type = bareMediaType(contentType);
  if ((AUDIO_TYPES as readonly string[]).includes(type)) return 'audio';
  if ((IMAGE_TYPES as readonly string[]).includes(type)) return 'image';
  if ((DOCUMENT_TYPES as readonly string[]).includes(type)) return 'document';
  return 'other';
}

/** The content types a download of this kind may answer with. */
export function allowedTypesOf(kind: Exclude<MediaKind, 'other'>): readonly string[] {
  if (kind === 'audio') return AUDIO_TYPES;
  if (kind === 'image') return IMAGE_TYPES;
  return DOCUMENT_TYPES;
}
