/**
 * Signed outbound webhooks (handoff, provider-health alerts): a JSON POST through the safe client, signed with a
 * per-tenant secret, retried with exponential backoff on network errors, timeouts, 408, 429 and 5xx, and always in
 * the background so a slow receiver never holds up a reply. The scheme is documented in docs/webhooks.md.
 *
 * Signature: X-Parley-Signature: v1=<hex HMAC-SHA256 over `${X-Parley-Timestamp}.${raw body}`>, keyed with the
 * tenant's signing secret as a UTF-8 string. The secret is derived (HKDF) from APP_ENCRYPTION_KEY and the tenant
 * id, so nothing is stored; `generation` lets one tenant's secret be rotated without touching the app key.
 */
import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { deriveKey } from '../crypto/secrets';
import { parseRetryAfter } from '../llm/retry-after';
import { findOutboundError } from './outbound-error';
import { SafeHttpClient } from './safe-http';

export const SIGNATURE_HEADER = 'x-parley-signature';
export const TIMESTAMP_HEADER = 'x-parley-timestamp';
export const EVENT_HEADER = 'x-parley-event';
export const DELIVERY_HEADER = 'x-parley-delivery';

/** How far a receiver should let a timestamp drift before refusing it as a replay. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The tenant's signing secret (64 hex characters), as shown to the tenant for verification. */
export function webhookSigningSecret(appKey: Buffer, tenantId: string, generation = 1): string {
  return deriveKey(appKey, `webhook-signing:${tenantId}:${generation}`).toString('hex');
}

/** The X-Parley-Signature value for a body sent at `timestamp` (Unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: true when one v1 signature matches and the timestamp is within the tolerance. */
export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  toleranceSeconds?: number;
  nowSeconds?: number;
}): boolean {
  const { secret, timestamp, signature, body } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}

export interface WebhookDelivery {
  tenantId: string;
  url: string;
  /** The event type, also sent as X-Parley-Event (conversation.handoff, provider_health). */
  event: string;
  payload: unknown;
  /** Per attempt; the sender's default when absent. */
  timeoutMs?: number;
  /** Extra fields for this delivery's log lines (conversationId, ...). */
  logFields?: Record<string, unknown>;
}

export type DeliveryResult =
  | { delivered: true; status: number; attempts: number }
  | { delivered: false; attempts: number; reason: string; status?: number };

export interface WebhookSenderOptions {
  client: SafeHttpClient;
  /** APP_ENCRYPTION_KEY; each tenant's secret is derived from it. */
  appKey: Buffer;
  logger: Logger;
  /** Per attempt (default 5 s). */
  timeoutMs?: number;
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Backoff: base * 2^(attempt - 1), half of it jittered, at most maxDelayMs; a Retry-After within that cap wins. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (milliseconds: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Unix milliseconds (the signature's timestamp). */
  now?: () => number;
}

/** Sends signed webhooks in the background and keeps track of them until they end. */
export class WebhookSender {
  private readonly deliveries = new Set<Promise<DeliveryResult>>();
  private readonly stopping = new AbortController();
  private readonly options: Required<Omit<WebhookSenderOptions, 'client' | 'appKey' | 'logger'>>;

  constructor(private readonly dependencies: WebhookSenderOptions) {
    this.options = {
      timeoutMs: dependencies.timeoutMs ?? 5_000,
      maxAttempts: dependencies.maxAttempts ?? 5,
      baseDelayMs: dependencies.baseDelayMs ?? 1_000,
      maxDelayMs: dependencies.maxDelayMs ?? 60_000,
      sleep: dependencies.sleep ?? ((milliseconds, signal) => delay(milliseconds, undefined, { signal })),
      random: dependencies.random ?? Math.random,
      now: dependencies.now ?? Date.now,
    };
  }

  /** Queues a delivery in the background and returns at once; never throws. */
  send(delivery: WebhookDelivery): void {
    const running = this.deliver(delivery);
    this.deliveries.add(running);
    void running.finally(() => this.deliveries.delete(running));
  }

  /** Delivers with retries and resolves with the outcome (never rejects); `send` is this in the background. */
  async deliver(delivery: WebhookDelivery): Promise<DeliveryResult> {
    const log = this.dependencies.logger.child({ tenantId: delivery.tenantId, webhook: delivery.event, ...delivery.logFields });
    const body = JSON.stringify(delivery.payload);
    const secret = webhookSigningSecret(this.dependencies.appKey, delivery.tenantId);
    const deliveryId = crypto.randomUUID();
    let last: DeliveryResult = { delivered: false, attempts: 0, reason: 'not attempted' };
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt += 1) {
      const { result, retryable, retryAfterMs } = await this.attempt(delivery, body, secret, deliveryId, attempt);
      last = result;
      if (result.delivered) return result;
      if (!retryable || attempt === this.options.maxAttempts || this.stopping.signal.aborted) break;
      const backoff = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
      const wait =
        retryAfterMs !== undefined
          ? Math.min(this.options.maxDelayMs, Math.max(retryAfterMs, backoff / 2))
          : backoff / 2 + this.options.random() * (backoff / 2);
      try {
        await this.options.sleep(Math.round(wait), this.stopping.signal);
      } catch {
        break; // stopping: the attempt in flight was the last one
      }
    }
    if (!last.delivered)
      log.warn({ attempts: last.attempts, status: last.status, reason: last.reason, deliveryId }, 'webhook not delivered');
    return last;
  }

  /** Waits until every delivery has ended (tests; a graceful shutdown after stop()). */
  async settle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  /** Shutdown: no further retries (waits in backoff end now), then waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settle();
  }

  private async attempt(
    delivery: WebhookDelivery,
    body: string,
    secret: string,
    deliveryId: string,
    attempt: number,
  ): Promise<{ result: DeliveryResult; retryable: boolean; retryAfterMs?: number }> {
    // A fresh timestamp per attempt, so a retry an hour later is still inside the receiver's tolerance.
    const timestamp = Math.floor(this.options.now() / 1000);
    try {
      const response = await this.dependencies.client.request(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhooks/1',
          [EVENT_HEADER]: delivery.event,
          [DELIVERY_HEADER]: deliveryId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
        },
        body,
        timeoutMs: delivery.timeoutMs ?? this.options.timeoutMs,
        discardBody: true,
      });
      const { status } = response;
      if (status >= 200 && status < 300) return { result: { delivered: true, status, attempts: attempt }, retryable: false };
      const retryable = status === 408 || status === 429 || status >= 500;
      return {
        result: { delivered: false, attempts: attempt, status, reason: `answered ${status}` },
        retryable,
        retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined,
      };
    } catch (error) {
      const outbound = findOutboundError(error);
      return {
        result: { delivered: false, attempts: attempt, reason: outbound ? `${outbound.code}: ${outbound.message}` : 'unexpected error' },
        retryable: outbound ? outbound.isRetryable : false,
      };
    }
  }
}

/** A process's sender: tenant webhook URLs under the outbound policy, secrets derived from the app key. */
export function createWebhookSender(
  outbound: Config['outbound'],
  appKey: Buffer,
  logger: Logger,
  sleep?: WebhookSenderOptions['sleep'],
): WebhookSender {
  return new WebhookSender({ client: new SafeHttpClient(outbound), appKey, logger, sleep });
}
