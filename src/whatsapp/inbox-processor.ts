/**
 * Turns stored inbound messages into replies. Work comes from the database (WorkQueue), never from memory:
 * the webhook only wakes the processor up, and a poll finds work left by other instances or a crash.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { TurnHandler, TurnOutcome } from '../agent/turn-handler';
import type { HandoffEvent, HandoffService } from '../conversations/handoff-service';
import { runAsClaimRound, runAsTenant } from '../db/fair-connections';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { ClaimedInbound, MessageRepository, TurnRecord } from '../db/repositories/message-repository';
import type { TenantService } from '../tenants/tenant-service';
import { burstWindowFor, combineBurst, MAX_BURST_MESSAGES } from './burst';
import { PendingWakes } from './pending-wakes';
import type { OutboundSender } from './outbound-sender';
import type { TypingIndicator } from './typing-indicator';
import type { HeldOutbound, WaitingConversation, WorkQueue } from './work-queue';

/** The tables a turn reads and writes. */
export interface TurnRepositories {
  messages: MessageRepository;
  conversations: ConversationRepository;
  interactions: AgentInteractionRepository;
}

export interface InboxProcessorOptions {
  /** Turns in flight at most (a turn waiting on a model holds no database connection). */
  concurrency: number;
  /** The share of `concurrency` one tenant's turns may fill; the rest stays free for other tenants' new messages. */
  tenantShare?: number;
  pollIntervalMs: number;
  /** Attempts before an inbound message is marked failed. */
  maxAttempts?: number;
  /** Shows WhatsApp's typing indicator when a turn starts (in the background). */
  typing?: TypingIndicator;
  /** Earlier messages of the conversation loaded with a turn for the agent (its history limit; 0: the agent reads them). */
  historyLimit?: number;
}

/** A conversation the processor was told has work: a webhook stored a message, or a turn of it finished. */
export interface WakeTarget {
  conversationId: string;
  tenantId: string;
}

/** Conversations remembered for a targeted claim at most; beyond, the round-robin claim finds them. */
const MAX_PENDING_WAKES = 10_000;
/**
 * Conversations one targeted claim asks for at most. Claim rounds run one at a time, and a woken conversation waits
 * for the round in progress and then its own: during a burst, a round of 371 conversations took 0.6 s (measured).
 * More wakes than this are taken by the next round, which starts at once.
 */
const MAX_TARGETED_PER_ROUND = 64;

/** Thrown inside the commit transaction when our claim was lost (lease expired and someone else took it). */
class ClaimLostError extends Error {}

/**
 * Runs turns. Two ways to claim work, both from the database:
 * - targeted: the conversations the processor was just told about (this instance's webhooks, the next message of a
 *   conversation whose turn just finished) are claimed directly, for tenants below their share of the slots; a
 *   tenant's campaign burst therefore never delays another tenant's new message;
 * - round-robin: every conversation with work, in turn, for what no one told this instance about (other
 *   instances' webhooks, a crash, retries); it fills at most one tenant share of the slots, so the rest stays free
 *   for targeted claims.
 */
export class InboxProcessor {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightByTenant = new Map<string, number>();
  /** Conversations told about and not yet claimed, per tenant. */
  private readonly pendingWakes = new PendingWakes(MAX_PENDING_WAKES);
  /** Conversations whose burst window is open: their tenant and when the window closes (ms on the queue's clock). */
  private readonly waitingBursts = new Map<string, { tenantId: string; readyAtMs: number }>();
  private burstTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private wakeRequested = false;
  /** When the last sweep over all pending sends ran (0: never, so the first tick sweeps). */
  private lastSweepAt = 0;
  /** When the last round-robin claim ran (0: never, so the first tick runs one). */
  private lastRoundRobinAt = 0;
  private running = false;
  private readonly tenantCap: number;

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
  ) {
    this.tenantCap = Math.max(1, Math.floor(options.concurrency * (options.tenantShare ?? 1)));
  }

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
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = undefined;
    while (this.inFlight.size > 0 || this.ticking) {
      await Promise.allSettled([...this.inFlight]);
      if (this.ticking) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Asks for a claim round now, for this conversation first when one is given (after a webhook stored a message). */
  wake(target?: WakeTarget): void {
    if (!this.running) return;
    if (target) this.pendingWakes.add(target.conversationId, target.tenantId);
    if (this.ticking) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    // Often scheduled from a finishing turn, whose tenant's connection queue the round must not inherit.
    this.timer = setTimeout(() => void runAsClaimRound(() => this.tick()), delayMs);
  }

  /** One claim round: sends what is ready, then claims inbound messages up to the free slots. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    this.wakeRequested = false;
    try {
      // Woken conversations first: the round was most likely started for them.
      const targeted = this.targetedConversations();
      const { claims, waiting } = await this.queue.claimConversations(targeted.map(([conversationId]) => conversationId));
      this.run(claims);
      this.waitForBursts(waiting, new Map(targeted));
      // The sweep over every conversation's pending sends (left by a crash, or waiting for a retry) and the
      // round-robin claim are the backstops for work no wake told of. Each runs at most once per poll interval:
      // over a large backlog each is a slow statement (0.1 and 0.4 s measured during a burst), and every targeted
      // claim (another tenant's new message) waits while a round runs. The sweep takes only sends stored a while
      // ago (OutboundSender.sendLeftovers): a turn sends its own conversation's replies.
      if (Date.now() - this.lastSweepAt >= this.options.pollIntervalMs) {
        this.lastSweepAt = Date.now();
        await this.sender.sendLeftovers();
      }
      // Round robin over everything else, within one tenant share of the slots (the rest is for targeted claims).
      const roundRobinSlots = this.tenantCap - this.inFlight.size;
      if (roundRobinSlots > 0 && Date.now() - this.lastRoundRobinAt >= this.options.pollIntervalMs) {
        this.lastRoundRobinAt = Date.now();
        this.run(await this.queue.claimInbound(roundRobinSlots));
      }
    } catch (error) {
      this.logger.error({ err: error }, 'inbox claim round failed');
    } finally {
      this.ticking = false;
      this.schedule(this.wakeRequested ? 0 : this.options.pollIntervalMs);
    }
  }

  /**
   * Remembers conversations whose burst window is open and wakes them when it closes (one timer, for the earliest),
   * so a burst is answered as soon as the customer has been quiet for the window, not at the next poll.
   */
  private waitForBursts(waiting: readonly WaitingConversation[], tenantOf: ReadonlyMap<string, string>): void {
    for (const { conversationId, readyAt } of waiting) {
      const tenantId = tenantOf.get(conversationId);
      if (!tenantId || (this.waitingBursts.size >= MAX_PENDING_WAKES && !this.waitingBursts.has(conversationId))) continue;
      this.waitingBursts.set(conversationId, { tenantId, readyAtMs: readyAt.getTime() });
    }
    this.scheduleBurstTimer();
  }

  private scheduleBurstTimer(): void {
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = undefined;
    if (!this.running || this.waitingBursts.size === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { readyAtMs } of this.waitingBursts.values()) earliest = Math.min(earliest, readyAtMs);
    const delay = Math.max(0, earliest - this.queue.now().getTime());
    this.burstTimer = setTimeout(() => this.wakeReadyBursts(), Math.min(delay, 2 ** 31 - 1));
  }

  /** How many conversations wait for their burst window to close. */
  waitingBurstCount(): number {
    return this.waitingBursts.size;
  }

  /** Wakes every conversation whose burst window has closed by now (tests call it after moving their clock). */
  wakeReadyBursts(): void {
    const now = this.queue.now().getTime();
    for (const [conversationId, { tenantId, readyAtMs }] of this.waitingBursts) {
      if (readyAtMs > now) continue;
      this.waitingBursts.delete(conversationId);
      this.pendingWakes.add(conversationId, tenantId);
    }
    this.scheduleBurstTimer();
    this.wake();
  }

  /**
   * The woken conversations to claim now, one per tenant in turn: of tenants below their share, as many as there are
   * free slots and at most a round's worth (when more are left, the next round follows at once).
   */
  private targetedConversations(): Array<[conversationId: string, tenantId: string]> {
    const limit = Math.min(this.options.concurrency - this.inFlight.size, MAX_TARGETED_PER_ROUND);
    const chosen = this.pendingWakes.take(limit, (tenantId) => this.tenantCap - (this.inFlightByTenant.get(tenantId) ?? 0));
    if (chosen.length === MAX_TARGETED_PER_ROUND) this.wakeRequested = true;
    return chosen;
  }

  /** Runs the claimed turns; each, when done, wakes its conversation (its next message) and frees its slot. */
  private run(claims: ClaimedInbound[]): void {
    for (const claim of claims) {
      this.pendingWakes.delete(claim.conversationId, claim.tenantId);
      this.inFlightByTenant.set(claim.tenantId, (this.inFlightByTenant.get(claim.tenantId) ?? 0) + 1);
      const work = this.processAsTenant(claim).finally(() => {
        this.inFlight.delete(work);
        const left = (this.inFlightByTenant.get(claim.tenantId) ?? 1) - 1;
        if (left > 0) this.inFlightByTenant.set(claim.tenantId, left);
        else this.inFlightByTenant.delete(claim.tenantId);
        this.wake({ conversationId: claim.conversationId, tenantId: claim.tenantId });
      });
      this.inFlight.add(work);
    }
  }

  /** Processes until no work is left (tests, CLI). */
  async drain(): Promise<void> {
    for (;;) {
      await this.sender.sendPending();
      const claims = await this.queue.claimInbound(this.options.concurrency);
      if (claims.length === 0 && this.inFlight.size === 0) return;
      await Promise.all(claims.map((claim) => this.processAsTenant(claim)));
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** A turn's statements wait for connections in its tenant's queue (db/fair-connections.ts), not behind other tenants'. */
  private processAsTenant(claim: ClaimedInbound): Promise<void> {
    return runAsTenant(claim.tenantId, () => this.process(claim));
  }

  private async process(claim: ClaimedInbound): Promise<void> {
    const log = this.logger.child({ tenantId: claim.tenantId, conversationId: claim.conversationId, messageId: claim.id });
    const renewal = setInterval(
      () => {
        this.queue.renewLease(claim).catch((error) => log.warn({ err: error }, 'lease renewal failed'));
      },
      (this.queue.leaseSeconds * 1000) / 3,
    );
    try {
      const [tenant, loaded] = await Promise.all([
        this.tenants.findById(claim.tenantId),
        // The burst members are loaded whatever the tenant's window (the tenant is read alongside, usually cached).
        this.repositories.messages.loadTurn(claim, { burstLimit: MAX_BURST_MESSAGES - 1, historyLimit: this.options.historyLimit ?? 0 }),
      ]);
      if (!tenant) throw new Error('tenant missing');
      if (!loaded) throw new Error('message or conversation missing');
      const { inbound, conversation, customerOptedOut, lastOfferedChoices } = loaded;
      // With a burst window, the messages that arrived after this one while the conversation was held are answered
      // with it (the claim waited for the customer to be quiet); without one, each message is a turn.
      const burst = burstWindowFor(tenant.settings, this.queue.burst).quietMs > 0 ? loaded.burstMembers : [];
      // The customer sees "typing…" (and their message read) while the agent works; never awaited. Its reference is
      // the turn's latest message, so WhatsApp marks the whole burst read.
      if (conversation.status !== 'handoff' && !customerOptedOut) this.options.typing?.show(tenant, (burst.at(-1) ?? inbound).messageSid);
      const outcome = await this.turns.handle({
        tenant,
        conversation,
        inbound: combineBurst(inbound, burst),
        burst,
        messages: [inbound, ...burst],
        customerOptedOut,
        lastOfferedChoices,
        history: this.options.historyLimit ? loaded.history : undefined,
      });
      const { handoff, sending } = await this.commit(
        claim,
        outcome,
        burst.map((message) => message.id),
      );
      if (handoff) this.handoffs.announce(tenant, handoff);
      log.info(
        { outcome: outcome.kind, provider: outcome.kind === 'reply' ? outcome.answer?.provider : undefined },
        'inbound message processed',
      );
      // Whatever the outcome, the conversation's queued sends (a reply, or a human agent's message that waited
      // behind this one) can go now; the reply's first part, when the commit already claimed it, first.
      await this.sender.sendAfterTurn(claim.conversationId, sending);
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
   * (MessageRepository.finishTurn), the rest of a burst settled with it; a handoff or a flag goes in the same
   * transaction. Returns the handoff to announce, when this turn started one, and the reply's first part when the
   * statement claimed it for sending (only outside a transaction: a part must not be sent before its transaction
   * commits). Throws ClaimLostError, having stored nothing, when the claim was lost.
   */
  private async commit(
    claim: ClaimedInbound,
    outcome: TurnOutcome,
    burstMemberIds: readonly string[],
  ): Promise<{ handoff: HandoffEvent | null; sending: HeldOutbound | null }> {
    const { messages, conversations } = this.repositories;
    const record = toTurnRecord(outcome);
    if (outcome.kind === 'skip' || (!outcome.handoff && !outcome.flag && !outcome.consent && !outcome.resume)) {
      const finished = await this.queue.finishTurn(claim, record, burstMemberIds);
      if (!finished) throw new ClaimLostError();
      return { handoff: null, sending: finished.sending };
    }
    const handoff = await this.manager.transaction(async (manager) => {
      if (!(await messages.finishTurn(claim, record, manager, burstMemberIds))) throw new ClaimLostError();
      const handoff = outcome.handoff ? await this.handoffs.begin(manager, outcome.handoff) : null;
      if (outcome.flag) await conversations.flag(claim.conversationId, outcome.flag.reason, manager);
      // In the transaction that stores the confirmation (marked confirmsOptOut by toTurnRecord), so no send claim
      // sees the opt-out without its confirmation, nor the confirmation without the opt-out.
      if (outcome.consent) await conversations.setConsent(claim.conversationId, outcome.consent.state, outcome.consent.source, manager);
      if (outcome.resume) await conversations.resumeAfterIdle(claim.conversationId, outcome.resume.agentRepliedAt, manager);
      return handoff;
    });
    return { handoff, sending: null };
  }
}

/** What the repository stores of a turn's outcome. */
function toTurnRecord(outcome: TurnOutcome): TurnRecord {
  if (outcome.kind === 'skip') return outcome;
  const answer = outcome.answer;
  return {
    kind: 'reply',
    parts: outcome.parts,
    // The one message an opted-out customer still gets (the sender's claim, message-repository.ts).
    confirmsOptOut: outcome.consent?.state === 'opted_out',
    continuation: outcome.continuation,
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
      chunkIds: answer.chunkIds,
      routing: answer.routing,
      messageKind: answer.learning?.messageKind ?? null,
      routingTier: answer.learning?.policyTier ?? null,
      routingPropensity: answer.learning?.policyTier ? String(answer.learning.propensity) : null,
    },
  };
}
