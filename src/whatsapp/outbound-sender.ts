/** Sends outbound messages that are stored as pending, in order per conversation, with retries for transient errors. */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { TenantService } from '../tenants/tenant-service';
import { toWhatsAppAddress } from '../tenants/whatsapp-number';
import type { OfferedChoice } from '../db/entities/message';
import { numberedOptions } from './rich-message';
import { type OutboundRequest, SEND_UNCERTAIN, type SendResult, TransportError, toTransportError, type TransportRegistry, type WhatsAppTransport } from './transport';
import type { ClaimedOutbound, WorkQueue } from './work-queue';

const MAX_SEND_ATTEMPTS = 5;

/** Twilio's "the ContentSid is invalid" (deleted resource, another account, a tenant's typo). */
const INVALID_CONTENT_CODES: ReadonlySet<string> = new Set(['21655', '92006']);

/** Delay before retry N (1-based): 2, 4, 8, 16 s. */
const retryDelaySeconds = (attempt: number) => Math.min(60, 2 ** attempt);

export class OutboundSender {
  constructor(
    private readonly manager: EntityManager,
    private readonly queue: WorkQueue,
    private readonly tenants: TenantService,
    private readonly transports: TransportRegistry,
    private readonly statusCallbackUrl: string,
    private readonly logger: Logger,
  ) {}

  /** Sends every ready outbound message (of one conversation, or of all); returns how many were attempted. */
  async sendPending(conversationId?: string, batch = 10): Promise<number> {
    let attempted = 0;
    for (;;) {
      // One per conversation per claim: the next chunk becomes claimable once the previous one is sent.
      const claims = await this.queue.claimOutbound(batch, conversationId);
      if (claims.length === 0) return attempted;
      await Promise.all(claims.map((claim) => this.sendOne(claim)));
      attempted += claims.length;
    }
  }

  /** A matching provider message sent since the crashed attempt began, whose SID no other row already owns. */
  private async findOwnEarlierSend(transport: WhatsAppTransport, request: OutboundRequest, claim: ClaimedOutbound): Promise<SendResult | null> {
    // The row's last update is when the earlier attempt was claimed ('sending') or gave up (timed out, so it began
    // up to a request timeout before); plus slack for clock skew between us and the provider.
    const lookBackMs = claim.previousStatus === 'sending' ? 5_000 : 60_000;
    const candidates = await transport.findRecentlySent(request, new Date(claim.previousClaimAt.getTime() - lookBackMs));
    if (candidates.length === 0) return null;
    const owned: Array<{ message_sid: string }> = await this.manager.query(
      'SELECT message_sid FROM messages WHERE message_sid = ANY($1) AND id <> $2',
      [candidates.map((candidate) => candidate.sid), claim.id],
    );
    const taken = new Set(owned.map((row) => row.message_sid));
    return candidates.find((candidate) => !taken.has(candidate.sid)) ?? null;
  }

  private async sendOne(claim: ClaimedOutbound): Promise<void> {
    const log = this.logger.child({ tenantId: claim.tenantId, conversationId: claim.conversationId, messageId: claim.id });
    try {
      const resolved = await this.tenants.findById(claim.tenantId);
      if (!resolved) throw new TransportError('Tenant no longer exists', false, 'tenant_missing', undefined);
      const rows: Array<{ whatsapp_address: string }> = await this.manager.query(
        `SELECT customers.whatsapp_address FROM conversations JOIN customers ON customers.id = conversations.customer_id
         WHERE conversations.id = $1`,
        [claim.conversationId],
      );
      if (!rows[0]) throw new TransportError('Conversation no longer exists', false, 'conversation_missing', undefined);
      const transport = this.transports.transportFor(resolved);
      const request = {
        from: toWhatsAppAddress(resolved.tenant.whatsappNumber),
        to: rows[0].whatsapp_address,
        body: claim.body,
        contentSid: claim.contentSid ?? undefined,
        contentVariables: claim.contentVariables ?? undefined,
        // The id lets a callback find the row even before the SID is stored.
        statusCallback: transport.kind === 'twilio' ? `${this.statusCallbackUrl}?message_id=${claim.id}` : undefined,
      };
      // An earlier attempt died mid-send: it may have reached Twilio, so look before sending again.
      const mayHaveBeenSent = claim.previousStatus === 'sending' || claim.previousErrorCode === SEND_UNCERTAIN;
      const alreadySent = mayHaveBeenSent ? await this.findOwnEarlierSend(transport, request, claim) : null;
      if (alreadySent) log.warn({ sid: alreadySent.sid }, 'found the message already sent by a crashed attempt; not sending again');
      const result = alreadySent ?? (await transport.send(request));
      await this.manager.query(
        `UPDATE messages SET status = $3, message_sid = $4, locked_until = NULL, error_code = NULL, error_message = NULL,
                processed_at = now(), updated_at = now()
         WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
        [claim.id, claim.attempts, result.status, result.sid],
      );
      log.info({ sid: result.sid, status: result.status, transport: transport.kind }, 'outbound message sent');
    } catch (caught) {
      const error = caught instanceof TransportError ? caught : toTransportError(caught);
      if (claim.contentSid && error.code && INVALID_CONTENT_CODES.has(error.code)) {
        log.warn({ err: error, contentSid: claim.contentSid }, 'content resource rejected; sending the text fallback instead');
        await this.fallBackToText(claim, error);
      } else if (error.isRetryable && claim.attempts < MAX_SEND_ATTEMPTS) {
        log.warn({ err: error, attempt: claim.attempts }, 'outbound send failed; will retry');
        await this.queue.retryLater(claim, retryDelaySeconds(claim.attempts), error.message, error.code === SEND_UNCERTAIN ? SEND_UNCERTAIN : undefined);
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
  private async fallBackToText(claim: ClaimedOutbound, error: TransportError): Promise<void> {
    await this.manager.query('DELETE FROM content_templates WHERE tenant_id = $1 AND content_sid = $2', [claim.tenantId, claim.contentSid]);
    const rows: Array<{ choices: OfferedChoice[] | null }> = await this.manager.query('SELECT choices FROM messages WHERE id = $1', [claim.id]);
    const choices = rows[0]?.choices ?? [];
    const body = choices.length > 0 ? `${claim.body}${numberedOptions(choices)}` : claim.body;
    await this.manager.query(
      `UPDATE messages SET content_sid = NULL, content_variables = NULL, body = $3, status = 'pending', locked_until = NULL,
              error_code = $4, error_message = $5, updated_at = now()
       WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
      [claim.id, claim.attempts, body, error.code ?? null, error.message.slice(0, 1000)],
    );
  }
}
