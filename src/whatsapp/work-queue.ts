/**
 * The durable work queue over the messages table (its SQL is in db/repositories/message-repository.ts): claims
 * with a lease, round-robin over conversations, and settling of claims that failed.
 */
import type { BurstWindow } from '../config';
import type { ClaimedInbound, ClaimedOutbound, MessageRepository, OutboundScope, TurnRecord } from '../db/repositories/message-repository';

/** An outbound message claimed for sending, with when its lease began on this process's monotonic clock. */
export interface HeldOutbound extends ClaimedOutbound {
  /**
   * The queue's clock (ms) read just before the claim was sent to the database: the lease, which the database
   * started from its now() after that, lasts at least leaseSeconds from here in real time, whatever the clocks say.
   */
  leaseFrom: number;
}

/** Share of the lease a send must leave unused: slack for the event loop between the check and the request. */
const LEASE_SLACK = 0.25;

/** A conversation whose burst window is still open: its turn may start at readyAt. */
export interface WaitingConversation {
  conversationId: string;
  readyAt: Date;
}

/** The greatest conversation id among claims (where a round-robin walk over conversation ids got to). */
function lastConversation(claims: ClaimedInbound[]): string | null {
  return claims.reduce<string | null>((last, claim) => (last === null || claim.conversationId > last ? claim.conversationId : last), null);
}

/** Claims and settles inbound and outbound work. */
export class WorkQueue {
  /** The conversation this queue's last inbound claim reached; the next claim starts after it. */
  private inboundCursor: string | null = null;

  constructor(
    private readonly messages: MessageRepository,
    readonly leaseSeconds: number,
    /** The platform's burst window; a tenant's whatsapp.burst setting overrides it (read by the claim itself). */
    readonly burst: BurstWindow = { quietMs: 0, maxMs: 0 },
    /** The clock burst windows are measured with (tests pass their own; leases use the database's). */
    readonly now: () => Date = () => new Date(),
    /** A monotonic clock in ms, how long a claim has been held is measured with (tests pass their own). */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  /** Claims up to `limit` inbound messages, at most one per conversation, taking conversations round-robin. */
  async claimInbound(limit: number): Promise<ClaimedInbound[]> {
    if (limit <= 0) return [];
    const claimed = await this.messages.claimInbound(this.leaseSeconds, limit, this.inboundCursor, this.now(), this.burst);
    // The walk reached the last conversation with work: wrap around to the first.
    const wrapped =
      claimed.length < limit && this.inboundCursor !== null
        ? await this.messages.claimInbound(this.leaseSeconds, limit - claimed.length, null, this.now(), this.burst)
        : [];
    this.inboundCursor = lastConversation(wrapped) ?? lastConversation(claimed);
    return [...claimed, ...wrapped];
  }

  /**
   * Claims the next inbound message of each of these conversations, where one is ready (strict order kept); those
   * whose burst window is still open are returned as `waiting`.
   */
  claimConversations(conversationIds: readonly string[]): Promise<{ claims: ClaimedInbound[]; waiting: WaitingConversation[] }> {
    return this.messages.claimConversations(this.leaseSeconds, conversationIds, this.now(), this.burst);
  }

  /**
   * Settles a claimed turn outside any transaction (MessageRepository.finishTurn) and, when its reply's first part
   * can go at once, holds that part for sending in the same statement: the turn sends it without claiming it. Null
   * when the turn's claim was lost.
   */
  async finishTurn(
    claim: ClaimedInbound,
    record: TurnRecord,
    burstMemberIds: readonly string[],
  ): Promise<{ sending: HeldOutbound | null } | null> {
    const leaseFrom = this.monotonic();
    const finished = await this.messages.finishTurn(claim, record, undefined, burstMemberIds, this.leaseSeconds);
    if (!finished) return null;
    return { sending: finished.sending && { ...finished.sending, leaseFrom } };
  }

  /** Claims up to `limit` outbound messages ready to send: of one conversation, or of any, stored at least so long ago. */
  async claimOutbound(limit: number, scope: OutboundScope): Promise<HeldOutbound[]> {
    if (limit <= 0) return [];
    const leaseFrom = this.monotonic();
    const claims = await this.messages.claimOutbound(this.leaseSeconds, limit, scope);
    return claims.map((claim) => ({ ...claim, leaseFrom }));
  }

  /**
   * True when the claim's lease, as this process measures it, outlasts work of `durationMs` starting now with a
   * quarter of the lease to spare; false when it may not (time went by: a slow lookup, a stalled event loop).
   */
  leaseCovers(claim: HeldOutbound, durationMs: number): boolean {
    const leaseMs = this.leaseSeconds * 1000;
    return this.monotonic() - claim.leaseFrom + durationMs <= leaseMs * (1 - LEASE_SLACK);
  }

  /** Extends the lease of a claim still held; false when it was lost. */
  renewLease(claim: ClaimedInbound): Promise<boolean> {
    return this.messages.renewLease(claim, this.leaseSeconds);
  }

  /** Puts a claim back after a transient failure, to be tried again after `delaySeconds`. */
  retryLater(claim: ClaimedInbound, delaySeconds: number, error: string, errorCode?: string): Promise<void> {
    return this.messages.releaseForRetry(claim, delaySeconds, error, errorCode ?? null);
  }

  /** Marks a claim as failed for good. */
  fail(claim: ClaimedInbound, error: string, errorCode?: string): Promise<void> {
    return this.messages.failClaim(claim, error, errorCode ?? null);
  }

  /** How many messages wait for work (inbound to answer, outbound to send). */
  backlog(): Promise<number> {
    return this.messages.countUnfinished();
  }
}
