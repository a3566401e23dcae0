/**
 * Turns stored inbound messages into replies. Work comes from the database (WorkQueue), never from memory:
 * the webhook only wakes the processor up, and a poll finds work left by other instances or a crash.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { TurnHandler, TurnOutcome } from '../agent/turn-handler';
import type { HandoffEvent, HandoffService } from '../conversations/handoff-service';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { ClaimedInbound, MessageRepository, TurnRecord } from '../db/repositories/message-repository';
import type { TenantService } from '../tenants/tenant-service';
import type { OutboundSender } from './outbound-sender';
import type { WorkQueue } from './work-queue';

/** The tables a turn reads and writes. */
export interface TurnRepositories {
  messages: MessageRepository;
  conversations: ConversationRepository;
  interactions: AgentInteractionRepository;
}

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
    private readonly repositories: TurnRepositories,
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
      const [tenant, loaded] = await Promise.all([this.tenants.findById(claim.tenantId), this.repositories.messages.loadTurn(claim)]);
      if (!tenant) throw new Error('tenant missing');
      if (!loaded) throw new Error('message or conversation missing');
      const { inbound, conversation } = loaded;
      const outcome = await this.turns.handle({ tenant, conversation, inbound });
      const handoff = await this.commit(claim, outcome);
      if (handoff) this.handoffs.announce(tenant, handoff);
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
   * Stores the outcome: the inbound message's final status, the reply's parts and the answer in one statement
   * (MessageRepository.finishTurn); a handoff or a flag goes in the same transaction. Returns the handoff to
   * announce, when this turn started one. Throws ClaimLostError, having stored nothing, when the claim was lost.
   */
  private async commit(claim: ClaimedInbound, outcome: TurnOutcome): Promise<HandoffEvent | null> {
    const { messages, conversations } = this.repositories;
    const record = toTurnRecord(outcome);
    if (outcome.kind === 'skip' || (!outcome.handoff && !outcome.flag)) {
      if (!(await messages.finishTurn(claim, record))) throw new ClaimLostError();
      return null;
    }
    return this.manager.transaction(async (manager) => {
      if (!(await messages.finishTurn(claim, record, manager))) throw new ClaimLostError();
      const handoff = outcome.handoff ? await this.handoffs.begin(manager, outcome.handoff) : null;
      if (outcome.flag) await conversations.flag(claim.conversationId, outcome.flag.reason, manager);
      return handoff;
    });
  }
}

/** What the repository stores of a turn's outcome. */
function toTurnRecord(outcome: TurnOutcome): TurnRecord {
  if (outcome.kind === 'skip') return outcome;
  const answer = outcome.answer;
  return {
    kind: 'reply',
    parts: outcome.parts,
    answer: answer && {
      id: answer.interactionId,
      provider: answer.provider,
      model: answer.model,
      inputTokens: answer.usage.inputTokens,
      cachedInputTokens: answer.usage.cachedInputTokens,
      outputTokens: answer.usage.outputTokens,
      totalTokens: answer.usage.totalTokens,
      latencyMs: answer.latencyMs,
      finishReason: answer.finishReason,
      knowledgeIds: answer.knowledgeIds,
      routing: answer.routing,
      messageKind: answer.learning?.messageKind ?? null,
      routingTier: answer.learning?.policyTier ?? null,
      routingPropensity: answer.learning?.policyTier ? String(answer.learning.propensity) : null,
    },
  };
}
