/**
 * The media-understanding step of a turn, run before the agent: every MediaUrlN of the turn's messages is looked at.
 * A voice note is downloaded from Twilio and transcribed through the provider layer (with failover), and the
 * transcript becomes the message's text, stored as such (marked transcribed) before the agent runs, so the history,
 * routing, feedback and the dashboard all read it. A photo is downloaded and handed to the agent for a
 * vision-capable model. A PDF is downloaded and its text read (customer-document.ts): the agent gets it with the
 * message, marked as the customer's document; one with no text to read gets a polite reply and a flag. What no
 * provider can handle gets an honest reply and a flag. Bytes live in memory for the turn only; the outcomes (and
 * transcripts, a PDF's bounded text) are kept in the message's media descriptors.
 */
import type { Logger } from 'pino';
import { DOCUMENT_RECEIVED_FLAG, UNSUPPORTED_MEDIA_FLAG, type UnsupportedMediaReason } from '../../agent/unsupported-media';
import type { Conversation } from '../../db/entities/conversation';
import type { MediaItem, Message } from '../../db/entities/message';
import type { MessageRepository } from '../../db/repositories/message-repository';
import type { MediaCallTenant, MediaModels } from '../../llm/media-models';
import type { ImageInput } from '../../llm/types';
import type { ResolvedTenant } from '../../tenants/tenant-service';
import type { MediaDownloader } from './media-download';
import { documentForModel, readCustomerDocument } from './customer-document';
import { bareMediaType, mediaKindOf } from './media-kinds';
import { oggDurationSeconds } from './ogg-duration';

/** The turn as the media step sees it (the turn handler's context). */
export interface MediaTurn {
  tenant: ResolvedTenant;
  conversation: Conversation;
  /** The message to answer; for a burst, its messages combined (text of each, all media). */
  inbound: Message;
  /** The messages after the first of a burst, as received. */
  burst?: readonly Message[];
}

export type MediaUnderstanding =
  /** No media: the turn runs as it always did. */
  | { kind: 'none' }
  /**
   * The agent answers `text` (typed text and transcripts) with `images`; `flag` asks a person to look too.
   * `describing` settles once the photos' descriptions are stored (it runs alongside the agent and never rejects).
   */
  | { kind: 'agent'; text: string; images: ImageInput[]; flag?: string; describing?: Promise<void> }
  /** Nothing the agent could answer: the honest reply for `reason`, and the flag. */
  | { kind: 'reply'; reason: UnsupportedMediaReason; flag: string };

export interface MediaUnderstanderDependencies {
  downloader: MediaDownloader;
  models: MediaModels;
  messages: Pick<MessageRepository, 'recordMediaUnderstanding'>;
  logger?: Logger;
}

/** Outcomes that leave the item not understood. */
const NOT_UNDERSTOOD = new Set<MediaItem['outcome']>([
  'unsupported_type',
  'no_provider',
  'provider_failed',
  'download_failed',
  'unreadable',
]);

/** Understands the media of a turn's messages; see the file comment. */
export class MediaUnderstander {
  constructor(private readonly dependencies: MediaUnderstanderDependencies) {}

  /** The hook the turn handler calls before the agent runs. */
  async understandMedia(turn: MediaTurn): Promise<MediaUnderstanding> {
    if (turn.inbound.media.length === 0) return { kind: 'none' };
    const members = turn.burst ?? [];
    const memberUrls = new Set(members.flatMap((message) => message.media.map((item) => item.url)));
    const stored = [
      {
        message: turn.inbound,
        body: ownBody(turn.inbound, members),
        media: turn.inbound.media.filter((item) => !memberUrls.has(item.url)),
      },
      ...members.map((message) => ({ message, body: message.body, media: message.media })),
    ];
    const call: Omit<MediaCallTenant, 'conversationId'> = {
      tenantId: turn.tenant.tenant.id,
      tenantSettings: turn.tenant.settings,
      credentials: turn.tenant.credentials,
    };
    const images: ImageInput[] = [];
    const describing: Array<Promise<void>> = [];
    const texts: string[] = [];
    const items: MediaItem[] = [];
    for (const { message, media, ...rest } of stored) {
      // A retried turn: the body already holds the transcripts an earlier attempt stored; start from the typed text.
      const body = withoutTranscripts(rest.body, media);
      if (media.length === 0) {
        if (body.trim()) texts.push(body.trim());
        continue;
      }
      const understood: MediaItem[] = [];
      const shown: Array<ImageInput | undefined> = [];
      for (const item of media) {
        const result = await this.understandItem(item, { ...call, conversationId: message.conversationId }, turn.tenant);
        if (result.image) images.push(result.image);
        understood.push(result.item);
        shown.push(result.image);
      }
      const transcripts = understood.filter((item) => item.outcome === 'transcribed' && item.transcript).map((item) => item.transcript!);
      const text = [body.trim(), ...transcripts].filter((part) => part !== '').join('\n');
      // A read PDF joins what the agent is asked, never the stored body: the customer did not type it.
      const documents = understood.filter((item) => item.outcome === 'text_extracted').map(documentForModel);
      const asked = [text, ...documents].filter((part) => part !== '').join('\n');
      if (asked) texts.push(asked);
      items.push(...understood);
      // Stored before the agent runs: a retry reuses the transcript, and every reader sees the text the agent saw.
      const record = { body: transcripts.length > 0 ? text : message.body, transcribed: transcripts.length > 0, media: understood };
      await this.dependencies.messages.recordMediaUnderstanding(message.id, record);
      const photos = understood.flatMap((item, index) =>
        item.outcome === 'shown_to_model' && shown[index] ? [{ index, image: shown[index] }] : [],
      );
      if (photos.length > 0)
        describing.push(this.describe({ ...call, conversationId: message.conversationId }, message.id, record, photos, body));
    }
    const decided = decide(texts.join('\n'), images, items);
    if (decided.kind !== 'agent' || describing.length === 0) return decided;
    return { ...decided, describing: Promise.all(describing).then(() => undefined) };
  }

  /**
   * Describes the photos a model is shown, alongside the agent, and stores each description in its descriptor: the
   * description is kept, the photo is not. A failure only leaves the description out.
   */
  private async describe(
    call: MediaCallTenant,
    messageId: string,
    record: { body: string; transcribed: boolean; media: MediaItem[] },
    photos: Array<{ index: number; image: ImageInput }>,
    caption: string,
  ): Promise<void> {
    try {
      const media = [...record.media];
      for (const { index, image } of photos) {
        const description = await this.dependencies.models.describeImage({ ...call, image, caption: caption.trim() });
        if (description.ok)
          media[index] = { ...media[index], description: description.text, model: `${description.provider}/${description.model}` };
      }
      await this.dependencies.messages.recordMediaUnderstanding(messageId, { ...record, media });
    } catch (error) {
      this.dependencies.logger?.warn(
        { err: error, tenantId: call.tenantId, conversationId: call.conversationId },
        'photo description failed',
      );
    }
  }

  private async understandItem(
    item: MediaItem,
    call: MediaCallTenant,
    tenant: ResolvedTenant,
  ): Promise<{ item: MediaItem; image?: ImageInput }> {
    const kind = mediaKindOf(item.contentType);
    const base: MediaItem = { url: item.url, contentType: item.contentType, kind };
    // An earlier attempt of this turn already did the work (the transcript is kept; a photo's bytes are not).
    if (item.outcome && item.outcome !== 'shown_to_model') return { item };
    if (kind === 'other') return { item: { ...base, outcome: 'unsupported_type' } };
    const mediaType = bareMediaType(item.contentType);
    // A format no transcription model takes (AMR, from older phones; Parley does not transcode): said as such, so
    // agents see why, rather than as a missing key. The customer still gets the voice-note reply and the flag.
    if (kind === 'audio' && !this.dependencies.models.takesFormat(mediaType))
      return { item: { ...base, outcome: 'unsupported_type', detail: `no transcription model takes ${mediaType}` } };
    // Asked before downloading: without a provider for it, the download would be wasted. A PDF is read locally.
    const able =
      kind === 'document' ||
      (kind === 'audio' ? await this.dependencies.models.canTranscribe(call, mediaType) : await this.dependencies.models.canSee(call));
    if (!able) return { item: { ...base, outcome: 'no_provider' } };
    const { twilioAccountSid, twilioAuthToken } = tenant.credentials;
    if (!twilioAccountSid) return { item: { ...base, outcome: 'download_failed', detail: 'no Twilio account' } };
    const download = await this.dependencies.downloader.download(item.url, kind, {
      accountSid: twilioAccountSid,
      authToken: twilioAuthToken,
    });
    if (!download.ok) {
      this.dependencies.logger?.warn(
        { tenantId: call.tenantId, conversationId: call.conversationId, failure: download.failure, detail: download.detail },
        'media download refused or failed',
      );
      return { item: { ...base, outcome: 'download_failed', detail: download.failure } };
    }
    const bytes = download.data.length;
    if (kind === 'image') {
      return { item: { ...base, outcome: 'shown_to_model', bytes }, image: { mediaType: download.mediaType, data: download.data } };
    }
    if (kind === 'document') {
      const reading = await readCustomerDocument(download.data);
      if (!reading.ok) return { item: { ...base, outcome: 'unreadable', detail: reading.failure, bytes } };
      const { title, text, truncated } = reading;
      return {
        item: { ...base, outcome: 'text_extracted', text, ...(title ? { title } : {}), ...(truncated ? { truncated } : {}), bytes },
      };
    }
    const transcription = await this.dependencies.models.transcribe({
      ...call,
      audio: download.data,
      mediaType: download.mediaType,
      audioSeconds: download.mediaType === 'audio/ogg' ? oggDurationSeconds(download.data) : undefined,
    });
    if (!transcription.ok)
      return { item: { ...base, outcome: transcription.reason === 'no_provider' ? 'no_provider' : 'provider_failed', bytes } };
    return {
      item: {
        ...base,
        outcome: 'transcribed',
        transcript: transcription.text,
        model: `${transcription.provider}/${transcription.model}`,
        bytes,
      },
    };
  }
}

/** What the turn does with what was understood. */
function decide(text: string, images: ImageInput[], items: MediaItem[]): MediaUnderstanding {
  const failed = items.filter((item) => NOT_UNDERSTOOD.has(item.outcome) || (item.outcome === 'transcribed' && !item.transcript));
  const failedKinds = new Set(failed.map((item) => item.kind));
  // A voice note or a photo the bot could not take in is the heart of the message: answering the rest would mislead.
  if (failedKinds.has('audio') || failedKinds.has('image')) {
    const reason: UnsupportedMediaReason =
      failedKinds.has('audio') && failedKinds.has('image') ? 'media' : failedKinds.has('audio') ? 'audio' : 'image';
    return { kind: 'reply', reason, flag: UNSUPPORTED_MEDIA_FLAG };
  }
  // A PDF the bot could not read (too large, a scan, a password; on an older row, not tried): a person reads it.
  const unreadDocument = failedKinds.has('document') || items.some((item) => item.outcome === 'acknowledged');
  const otherFailed = failedKinds.has('other');
  const answerable = text.trim() !== '' || images.length > 0;
  if (!answerable) {
    return unreadDocument && !otherFailed
      ? { kind: 'reply', reason: 'document', flag: DOCUMENT_RECEIVED_FLAG }
      : { kind: 'reply', reason: failed.length > 0 ? 'other' : 'media', flag: UNSUPPORTED_MEDIA_FLAG };
  }
  const note = unreadDocument ? '\n(The customer also sent a PDF document that could not be read; a colleague will review it.)' : '';
  const flag = otherFailed ? UNSUPPORTED_MEDIA_FLAG : unreadDocument ? DOCUMENT_RECEIVED_FLAG : undefined;
  return { kind: 'agent', text: `${text}${note}`, images, ...(flag ? { flag } : {}) };
}

/** `body` without the transcripts an earlier attempt appended to it (each item that already has one). */
function withoutTranscripts(body: string, media: readonly MediaItem[]): string {
  const earlier = media.filter((item) => item.outcome === 'transcribed' && item.transcript).map((item) => item.transcript!);
  if (earlier.length === 0) return body;
  const appended = earlier.join('\n');
  if (body === appended) return '';
  return body.endsWith(`\n${appended}`) ? body.slice(0, -(appended.length + 1)) : body;
}

/** The first message's own text when a burst combined several (combineBurst joins each non-empty body with a newline). */
function ownBody(inbound: Message, members: readonly Message[]): string {
  if (members.length === 0) return inbound.body;
  const tail = members
    .map((message) => message.body.trim())
    .filter((body) => body !== '')
    .join('\n');
  if (!tail) return inbound.body;
  if (inbound.body === tail) return '';
  return inbound.body.endsWith(`\n${tail}`) ? inbound.body.slice(0, -(tail.length + 1)) : inbound.body;
}
