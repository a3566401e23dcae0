/** Sends outbound messages that are stored as pending, in order per conversation, with retries for transient errors. */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { TenantService } from '../tenants/tenant-service';
import { toWhatsAppAddress } from '../tenants/whatsapp-number';
import { TransportError, toTransportError, type TransportRegistry } from './transport';
import type { ClaimedOutbound, WorkQueue } from './work-queue';

const MAX_SEND_ATTEMPTS = 5;

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
      const result = await transport.send({
        from: toWhatsAppAddress(resolved.tenant.whatsappNumber),
        to: rows[0].whatsapp_address,
        body: claim.body,
        contentSid: claim.contentSid ?? undefined,
        contentVariables: claim.contentVariables ?? undefined,
        statusCallback: transport.kind === 'twilio' ? this.statusCallbackUrl : undefined,
      });
      await this.manager.query(
        `UPDATE messages SET status = $3, message_sid = $4, locked_until = NULL, error_code = NULL, error_message = NULL,
                processed_at = now(), updated_at = now()
         WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
        [claim.id, claim.attempts, result.status, result.sid],
      );
      log.info({ sid: result.sid, status: result.status, transport: transport.kind }, 'outbound message sent');
    } catch (caught) {
      const error = caught instanceof TransportError ? caught : toTransportError(caught);
      if (error.isRetryable && claim.attempts < MAX_SEND_ATTEMPTS) {
        log.warn({ err: error, attempt: claim.attempts }, 'outbound send failed; will retry');
        await this.queue.retryLater(claim, retryDelaySeconds(claim.attempts), error.message);
      } else {
        log.error({ err: error, attempt: claim.attempts }, 'outbound send failed for good');
        await this.queue.fail(claim, error.message, error.code);
      }
    }
  }
}
