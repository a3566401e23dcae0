/**
 * Bursts: customers type three short messages in a row and expect one answer. The work queue holds a conversation's
 * turn until it has been quiet for the burst window (see message-repository.ts, BURST_READY_AT); the turn then takes
 * its first message and the ones after it, and answers them together with one reply.
 */
import type { BurstWindow } from '../config';
import type { Message } from '../db/entities/message';
import type { StoredTenantSettings } from '../tenants/tenant-settings';

/** Messages answered together at most (bounds the prompt); later ones wait for the next turn. */
export const MAX_BURST_MESSAGES = 20;

/** The tenant's burst window: its whatsapp.burst setting, or the platform's. */
export function burstWindowFor(settings: StoredTenantSettings, platform: BurstWindow): BurstWindow {
  return settings.whatsapp?.burst ?? platform;
}

/**
 * The turn's messages as one message for the agent: the first message's identity (its id and seq place it in the
 * history, which leaves the later ones out), every message's text on its own line, and all their media.
 */
export function combineBurst(head: Message, members: readonly Message[]): Message {
  if (members.length === 0) return head;
  const messages = [head, ...members];
  return Object.assign(Object.create(Object.getPrototypeOf(head)) as Message, head, {
    body: messages
      .map((message) => message.body.trim())
      .filter((body) => body !== '')
      .join('\n'),
    media: messages.flatMap((message) => message.media),
  });
}
