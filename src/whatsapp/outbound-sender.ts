/** Sends outbound messages that are stored as pending, in order per conversation, with retries for transient errors. */
import type { Logger } from 'pino';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { ClaimedOutbound, MessageRepository, OutboundScope } from '../db/repositories/message-repository';
import type { TenantService } from '../tenants/tenant-service';
import { toWhatsAppAddress } from '../tenants/whatsapp-number';
import type { ContentTemplates } from './content-templates';
import { numberedOptions } from './rich-message';
import {
  type OutboundRequest,
  SEND_UNCERTAIN,
  type SendResult,
  TransportError,
  toTransportError,
  type TransportRegistry,
  type WhatsAppTransport,
} from './transport';
import type { HeldOutbound, WorkQueue } from './work-queue';

/** What the sender reads and writes besides the queue. */
export interface SenderDependencies {
  messages: MessageRepository;
  contentTemplates: Pick<ContentTemplates, 'forget'>;
  /** Records an opt-out Twilio reports (21610) on the customer. */
  conversations?: Pick<ConversationRepository, 'setConsent'>;
}

/** Twilio's "attempt to send to unsubscribed recipient": the customer opted out (they wrote STOP to Twilio). */
export const RECIPIENT_UNSUBSCRIBED = '21610';

/** What an unsent message's error says when it was held back on purpose. */
const BLOCKED_MESSAGES: Record<NonNullable<ClaimedOutbound['blockedReason']>, string> = {
  opted_out: 'Not sent: the customer opted out of messages (they can write START to resume)',
  agent_took_over: 'Not sent: a person took the conversation over before this bot message went out',
};

const MAX_SEND_ATTEMPTS = 5;

/** Twilio's "the ContentSid is invalid" (deleted resource, another account, a tenant's typo). */
const INVALID_CONTENT_CODES: ReadonlySet<string> = new Set(['21655', '92006']);

/** Delay before retry N (1-based): 2, 4, 8, 16 s. */
const retryDelaySeconds = (attempt: number) => Math.min(60, 2 ** attempt);

/** How old a send must be for the periodic sweep to take it (see sendLeftovers). */
export const LEFTOVER_AGE_SECONDS = 10;

/** Slack for the clocks of the database (the message's created_at) and the provider (its date_created). */
const CLOCK_SKEW_MS = 10_000;

export class OutboundSender {
  /**
   * This process's sends in flight, by message id. A message whose lease expired while this process still sends it
   * (a slow tenant lookup, a stalled event loop) can be claimed again by this process's own sweep: that claim waits
   * for the first send to settle, then looks at the provider, instead of racing it.
   */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: SenderDependencies,
    private readonly queue: WorkQueue,
    private readonly tenants: TenantService,
    private readonly transports: TransportRegistry,
    private readonly statusCallbackUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Sends every ready outbound message (of one conversation, or of all); returns how many were attempted. */
  sendPending(conversationId?: string, batch = 10): Promise<number> {
    return this.sendClaimed(conversationId === undefined ? { storedSecondsAgo: 0 } : { conversationId }, batch);
  }

  /**
   * Sends a turn's reply: its first part when the turn's settling statement already claimed it (WorkQueue.finishTurn),
   * then whatever waits behind it; without one, the conversation's ready sends. Returns how many were attempted.
   */
  async sendAfterTurn(conversationId: string, held: HeldOutbound | null): Promise<number> {
    if (!held) return this.sendPending(conversationId);
    await this.sendTracked(held);
    return held.hasNext ? 1 + (await this.sendPending(conversationId)) : 1;
  }

  /**
   * The periodic sweep over every conversation: sends due for a retry, and sends never tried that were stored at
   * least LEFTOVER_AGE_SECONDS ago (left by a crash). Fresher untried ones are being sent by the turn or the request
   * that stored them; sweeping those too made the sweep race every turn for its own reply under load (8 sweeps a
   * second in the soak, of 5.6 ms each, and the turn's own claim then finding nothing).
   */
  sendLeftovers(batch = 10): Promise<number> {
    return this.sendClaimed({ storedSecondsAgo: LEFTOVER_AGE_SECONDS }, batch);
  }

  /** Claims and sends the scope's ready messages, `batch` at a time, until none is left; returns how many were attempted. */
  private async sendClaimed(scope: OutboundScope, batch: number): Promise<number> {
    let attempted = 0;
    for (;;) {
      // One per conversation per claim: the next chunk becomes claimable once the previous one is sent.
      const claims = await this.queue.claimOutbound(batch, scope);
      if (claims.length === 0) return attempted;
      await Promise.all(claims.map((claim) => this.sendTracked(claim)));
      attempted += claims.length;
      // One conversation's sends: nothing waited behind the last one claimed, so another claim would find nothing.
      if ('conversationId' in scope && !claims.some((claim) => claim.hasNext)) return attempted;
    }
  }

  /** Sends one claim, after any send of the same message this process still has in flight. */
  private async sendTracked(claim: HeldOutbound): Promise<void> {
    const earlier = this.inFlight.get(claim.id);
    if (earlier) {
      this.logger.info(
        { tenantId: claim.tenantId, conversationId: claim.conversationId, messageId: claim.id },
        "waiting for this process's earlier send of the message",
      );
    }
    const work = (async () => {
      await earlier?.catch(() => undefined);
      await this.sendOne(claim);
    })();
    this.inFlight.set(claim.id, work);
    try {
      await work;
    } finally {
      if (this.inFlight.get(claim.id) === work) this.inFlight.delete(claim.id);
    }
  }

  /**
   * A matching provider message sent since the message was stored, whose SID no other row already owns. Anchored on
   * the row's creation, not on the last claim: an attempt that timed out (send_uncertain), then one that failed
   * plainly (a 503 clears the error code) or died before sending, must not hide the first one's send from the third.
   */
  private async findOwnEarlierSend(
    transport: WhatsAppTransport,
    request: OutboundRequest,
    claim: ClaimedOutbound,
  ): Promise<SendResult | null> {
    const candidates = await transport.findRecentlySent(request, new Date(claim.createdAt.getTime() - CLOCK_SKEW_MS));
    if (candidates.length === 0) return null;
    const taken = await this.store.messages.sidsOwnedByOthers(
      candidates.map((candidate) => candidate.sid),
      claim.id,
    );
    return candidates.find((candidate) => !taken.has(candidate.sid)) ?? null;
  }

  private async sendOne(claim: HeldOutbound): Promise<void> {
    const log = this.logger.child({ tenantId: claim.tenantId, conversationId: claim.conversationId, messageId: claim.id });
    if (claim.blockedReason) {
      log.info({ reason: claim.blockedReason }, 'outbound message held back');
      await this.queue.fail(claim, BLOCKED_MESSAGES[claim.blockedReason], claim.blockedReason);
      return;
    }
    try {
      const resolved = await this.tenants.findById(claim.tenantId);
      if (!resolved) throw new TransportError('Tenant no longer exists', false, 'tenant_missing', undefined);
      const customerAddress = claim.customerAddress;
      if (!customerAddress) throw new TransportError('Conversation no longer exists', false, 'conversation_missing', undefined);
      const transport = this.transports.transportFor(resolved);
      const request = {
        from: toWhatsAppAddress(resolved.tenant.whatsappNumber),
        to: customerAddress,
        body: claim.body,
        contentSid: claim.contentSid ?? undefined,
        contentVariables: claim.contentVariables ?? undefined,
        // The id lets a callback find the row even before the SID is stored.
        statusCallback: transport.kind === 'twilio' ? `${this.statusCallbackUrl}?message_id=${claim.id}` : undefined,
      };
      // Any earlier attempt (died mid-send, timed out, lost its lease, or failed after an uncertain one) may have
      // reached Twilio, whose Messages API has no idempotency key: look before sending again. Retries are rare, so is
      // the extra request.
      const alreadySent = claim.attempts > 1 ? await this.findOwnEarlierSend(transport, request, claim) : null;
      if (alreadySent) {
        log.warn(
          { sid: alreadySent.sid, previousStatus: claim.previousStatus, previousErrorCode: claim.previousErrorCode },
          'found the message already sent by an earlier attempt; not sending again',
        );
      }
      // The fence: the lease must outlast the request (whose timeout is at most half the lease, services.ts), or a
      // worker that took the message after it expired would send it too. Measured here first (the common case, no
      // statement); when time went by since the claim, the claim is checked and the lease extended in one statement.
      const covered = this.queue.leaseCovers(claim, this.transports.requestTimeoutMs);
      if (!alreadySent && !covered && !(await this.queue.renewLease(claim))) {
        log.warn({ attempt: claim.attempts }, 'lease lost before sending; another worker has the message');
        return;
      }
      const result = alreadySent ?? (await transport.send(request));
      await this.store.messages.markSent(claim, result.status, result.sid);
      log.info({ sid: result.sid, status: result.status, transport: transport.kind }, 'outbound message sent');
    } catch (caught) {
      const error = caught instanceof TransportError ? caught : toTransportError(caught);
      if (claim.contentSid && error.code && INVALID_CONTENT_CODES.has(error.code)) {
        log.warn({ err: error, contentSid: claim.contentSid }, 'content resource rejected; sending the text fallback instead');
        await this.fallBackToText(claim, claim.contentSid, error);
      } else if (error.code === RECIPIENT_UNSUBSCRIBED) {
        log.warn({ err: error }, 'Twilio reports the customer unsubscribed; recording the opt-out');
        await this.store.conversations?.setConsent(claim.conversationId, 'opted_out', 'twilio_21610');
        await this.queue.fail(claim, error.message, error.code);
      } else if (error.isRetryable && claim.attempts < MAX_SEND_ATTEMPTS) {
        log.warn({ err: error, attempt: claim.attempts }, 'outbound send failed; will retry');
        await this.queue.retryLater(
          claim,
          retryDelaySeconds(claim.attempts),
          error.message,
          error.code === SEND_UNCERTAIN ? SEND_UNCERTAIN : undefined,
        );
      } else {
        log.error({ err: error, attempt: claim.attempts }, 'outbound send failed for good');
        await this.queue.fail(claim, error.message, error.code);
      }
    }
  }

  /**
   * A message with buttons whose content resource Twilio refuses still carries an answer, so it goes again as the
   * numbered text fallback, and Parley's cached resource is forgotten (the next button message creates a new one).
   */
  private async fallBackToText(claim: ClaimedOutbound, contentSid: string, error: TransportError): Promise<void> {
    await this.store.contentTemplates.forget(claim.tenantId, contentSid);
    const choices = await this.store.messages.choicesOf(claim.id);
    const body = choices.length > 0 ? `${claim.body}${numberedOptions(choices)}` : claim.body;
    await this.store.messages.requeueAsText(claim, body, error.code ?? null, error.message);
  }
}
