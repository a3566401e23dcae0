/**
 * Turns stored inbound messages into replies. Work comes from the database (WorkQueue), never from memory:
 * the webhook only wakes the processor up, and a poll finds work left by other instances or a crash.
 */
import type { Logger } from 'pino';
import type { HandoffEvent, HandoffService } from '../conversations/handoff-service';
import type { EntityManager } from 'typeorm';
import { AgentInteraction } from '../db/entities/agent-interaction';
import { Conversation } from '../db/entities/conversation';
import { Message } from '../db/entities/message';
import type { TurnHandler, TurnOutcome } from '../agent/turn-handler';
import type { TenantService } from '../tenants/tenant-service';
import type { OutboundSender } from './outbound-sender';
import type { ClaimedInbound, WorkQueue } from './work-queue';

export interface InboxProcessorOptions {
  concurrency: number;
  pollIntervalMs: number;
  /** Attempts before an inbound message is marked failed. */
  maxAttempts?: number;
}

/** Thrown inside the commit transaction when our claim was lost (lease expired and someone else took it). */
class ClaimLostError extends Error {}

export class InboxProcessor {
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private wakeRequested = false;
  /** When the last sweep over all pending sends ran (0: never, so the first tick sweeps). */
  private lastSweepAt = 0;
  private running = false;

  constructor(
    private readonly manager: EntityManager,
    private readonly queue: WorkQueue,
    private readonly tenants: TenantService,
    private readonly turns: TurnHandler,
    private readonly sender: OutboundSender,
    private readonly handoffs: HandoffService,
    private readonly logger: Logger,
    private readonly options: InboxProcessorOptions,
  ) {}

  /** Starts polling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops taking new work and waits for the work in hand to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0 || this.ticking) {
      await Promise.allSettled([...this.inFlight]);
      if (this.ticking) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Asks for a claim round now (after a webhook stored a message). */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  /** One claim round: sends what is ready, then claims inbound messages up to the free concurrency. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    this.wakeRequested = false;
    try {
      // The sweep over every conversation's pending sends (left by a crash, or waiting for a retry) runs at most
      // once per poll interval: a turn sends its own conversation's replies, so a wake needs no sweep, and under
      // load wakes come after every message.
      if (Date.now() - this.lastSweepAt >= this.options.pollIntervalMs) {
        this.lastSweepAt = Date.now();
        await this.sender.sendPending();
      }
      const claims = await this.queue.claimInbound(this.options.concurrency - this.inFlight.size);
      for (const claim of claims) {
        const work = this.process(claim).finally(() => {
          this.inFlight.delete(work);
          this.wake();
        });
        this.inFlight.add(work);
      }
    } catch (error) {
      this.logger.error({ err: error }, 'inbox claim round failed');
    } finally {
      this.ticking = false;
      this.schedule(this.wakeRequested ? 0 : this.options.pollIntervalMs);
    }
  }

  /** Processes until no work is left (tests, CLI). */
  async drain(): Promise<void> {
    for (;;) {
      await this.sender.sendPending();
      const claims = await this.queue.claimInbound(this.options.concurrency);
      if (claims.length === 0 && this.inFlight.size === 0) return;
      await Promise.all(claims.map((claim) => this.process(claim)));
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private async process(claim: ClaimedInbound): Promise<void> {
    const log = this.logger.child({ tenantId: claim.tenantId, conversationId: claim.conversationId, messageId: claim.id });
    const renewal = setInterval(() => {
      this.queue.renewLease(claim).catch((error) => log.warn({ err: error }, 'lease renewal failed'));
    }, (this.queue.leaseSeconds * 1000) / 3);
    try {
      const [tenant, inbound, conversation] = await Promise.all([
        this.tenants.findById(claim.tenantId),
        this.manager.findOneByOrFail(Message, { id: claim.id }),
        this.manager.findOneByOrFail(Conversation, { id: claim.conversationId }),
      ]);
      if (!tenant) throw new Error('tenant missing');
      const outcome = await this.turns.handle({ tenant, conversation, inbound });
      const handoff = await this.commit(claim, outcome);
      if (handoff) this.handoffs.announce(tenant.tenant, handoff);
      log.info({ outcome: outcome.kind, provider: outcome.kind === 'reply' ? outcome.answer?.provider : undefined }, 'inbound message processed');
      // Whatever the outcome, the conversation's queued sends (a reply, or a human agent's message that waited
      // behind this one) can go now.
      await this.sender.sendPending(claim.conversationId);
    } catch (error) {
      if (error instanceof ClaimLostError) {
        log.warn('claim lost to another worker; dropping this result');
        return;
      }
      const maxAttempts = this.options.maxAttempts ?? 3;
      log.error({ err: error, attempt: claim.attempts }, 'processing inbound message failed');
      if (claim.attempts >= maxAttempts) await this.queue.fail(claim, 'processing failed', 'processing_failed');
      else await this.queue.retryLater(claim, 2 ** claim.attempts, 'processing failed; will retry');
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * Stores the outcome in one transaction: outbound parts, the interaction, a handoff, and the inbound's final
   * status. Returns the handoff to announce, when this turn started one.
   */
  private async commit(claim: ClaimedInbound, outcome: TurnOutcome): Promise<HandoffEvent | null> {
    return this.manager.transaction(async (manager) => {
      const held: unknown[] = await manager.query(
        `SELECT id FROM messages WHERE id = $1 AND attempts = $2 AND status = 'processing' FOR UPDATE`,
        [claim.id, claim.attempts],
      );
      if (held.length === 0) throw new ClaimLostError();
      await this.touchConversation(manager, claim);
      if (outcome.kind === 'skip') {
        await manager.update(Message, { id: claim.id }, { status: 'skipped', lockedUntil: null, processedAt: new Date(), errorMessage: outcome.reason });
        return null;
      }
      const handoff = outcome.handoff ? await this.handoffs.begin(manager, outcome.handoff) : null;
      const parts = await manager.save(
        outcome.parts.map((part, index) =>
          manager.create(Message, {
            tenantId: claim.tenantId,
            conversationId: claim.conversationId,
            direction: 'outbound',
            author: 'bot',
            body: part.body,
            contentSid: part.contentSid ?? null,
            contentVariables: part.contentVariables ?? null,
            choices: part.choices && part.choices.length > 0 ? part.choices : null,
            status: 'pending',
            replyToMessageId: claim.id,
            chunkIndex: index,
          }),
        ),
      );
      if (outcome.answer) {
        const answer = outcome.answer;
        await manager.insert(AgentInteraction, {
          id: answer.interactionId,
          tenantId: claim.tenantId,
          conversationId: claim.conversationId,
          inboundMessageId: claim.id,
          replyMessageId: parts[0]?.id ?? null,
          provider: answer.provider,
          model: answer.model,
          inputTokens: answer.usage.inputTokens,
          cachedInputTokens: answer.usage.cachedInputTokens,
          outputTokens: answer.usage.outputTokens,
          totalTokens: answer.usage.totalTokens,
          latencyMs: answer.latencyMs,
          finishReason: answer.finishReason,
          knowledgeIds: answer.knowledgeIds,
          routing: answer.routing as AgentInteraction['routing'] & object,
        });
      }
      await manager.update(Message, { id: claim.id }, { status: 'replied', lockedUntil: null, processedAt: new Date() });
      return handoff;
    });
  }

  /** Writes what the acknowledgement path leaves out: the conversation's activity time and the customer's profile. */
  private async touchConversation(manager: EntityManager, claim: ClaimedInbound): Promise<void> {
    await manager.query(
      `UPDATE conversations SET last_message_at = greatest(conversations.last_message_at, message.created_at), updated_at = now()
       FROM messages message WHERE message.id = $1 AND conversations.id = message.conversation_id`,
      [claim.id],
    );
    await manager.query(
      `UPDATE customers SET profile_name = COALESCE(message.raw_payload->>'ProfileName', customers.profile_name),
              wa_id = COALESCE(message.raw_payload->>'WaId', customers.wa_id), updated_at = now()
       FROM messages message JOIN conversations ON conversations.id = message.conversation_id
       WHERE message.id = $1 AND customers.id = conversations.customer_id
         AND (customers.profile_name IS DISTINCT FROM COALESCE(message.raw_payload->>'ProfileName', customers.profile_name)
              OR customers.wa_id IS DISTINCT FROM COALESCE(message.raw_payload->>'WaId', customers.wa_id))`,
      [claim.id],
    );
  }
}
