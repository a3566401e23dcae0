/**
 * How outbound WhatsApp messages leave: Twilio's Messages API, or a simulated transport for tenants
 * without Twilio credentials (the embedded demo), which only records and logs.
 */
import crypto from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { boundedCache } from '../bounded-cache';
import type { OutboundStatus } from '../db/entities/message';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { createTwilioClient, type TwilioClient } from './twilio-client';

export interface OutboundRequest {
  from: string;
  to: string;
  body?: string;
  contentSid?: string;
  contentVariables?: Record<string, string>;
  statusCallback?: string;
}

export interface SendResult {
  sid: string;
  status: OutboundStatus;
}

/** Error code recorded when a send may or may not have reached the provider. */
export const SEND_UNCERTAIN = 'send_uncertain';

/** Why a send failed, and whether trying again may help. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly isRetryable: boolean,
    readonly code: string | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface WhatsAppTransport {
  readonly kind: 'twilio' | 'simulated';
  send(request: OutboundRequest): Promise<SendResult>;
  /**
   * A message matching `request` that the provider accepted since `since`, if any. Used before re-sending after
   * a crash mid-send, because Twilio's Messages API has no idempotency key.
   */
  findRecentlySent(request: OutboundRequest, since: Date): Promise<SendResult[]>;
  /** The Twilio client, when there is one (Content API). */
  readonly client?: TwilioClient;
}

/** Statuses Twilio reports for a message it took that mean the same in Parley's vocabulary. */
const TWILIO_REPORTED_STATUSES: ReadonlySet<string> = new Set<OutboundStatus>([
  'queued',
  'accepted',
  'sent',
  'delivered',
  'read',
  'failed',
  'undelivered',
]);

/**
 * The status to store for a message Twilio accepted. Twilio's own 'sending' (and anything unknown) is stored as
 * queued: Parley's 'sending' means a worker holds the row.
 */
function acceptedStatus(twilioStatus: string): OutboundStatus {
  return TWILIO_REPORTED_STATUSES.has(twilioStatus) ? (twilioStatus as OutboundStatus) : 'queued';
}

/** Maps anything the twilio package throws to a TransportError. */
export function toTransportError(error: unknown): TransportError {
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : undefined;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : 'Twilio request failed';
  // No HTTP status: a timeout or a dropped connection. Twilio may have accepted the message, so the retry
  // must look before sending again.
  if (status === undefined) return new TransportError(message, true, SEND_UNCERTAIN, undefined);
  // 429 and 5xx are Twilio-side and transient; other 4xx (bad number, bad content) will fail again.
  const retryable = status === 429 || status >= 500;
  return new TransportError(message, retryable, code === undefined ? undefined : String(code), status);
}

class TwilioTransport implements WhatsAppTransport {
  readonly kind = 'twilio' as const;
  constructor(readonly client: TwilioClient) {}

  async send(request: OutboundRequest): Promise<SendResult> {
    try {
      const message = await this.client.messages.create({
        from: request.from,
        to: request.to,
        ...(request.contentSid
          ? { contentSid: request.contentSid, contentVariables: JSON.stringify(request.contentVariables ?? {}) }
          : { body: request.body ?? '' }),
        ...(request.statusCallback ? { statusCallback: request.statusCallback } : {}),
      });
      return { sid: message.sid, status: acceptedStatus(message.status) };
    } catch (error) {
      throw toTransportError(error);
    }
  }

  async findRecentlySent(request: OutboundRequest, since: Date): Promise<SendResult[]> {
    try {
      const page = await this.client.messages.page({ to: request.to, from: request.from, dateSentAfter: since, pageSize: 50 });
      // A content-template send comes back with its rendered body, which starts with the text stored for it (the
      // quick-reply body, or the twilio/text fallback that extends it); one without stored text is re-sent.
      const sameBody = (body: string) =>
        request.contentSid ? Boolean(request.body) && body.startsWith(request.body ?? '') : body === (request.body ?? '');
      return page.instances
        .filter((message) => message.dateCreated >= since && sameBody(message.body ?? ''))
        .map((message) => ({ sid: message.sid, status: acceptedStatus(message.status) }));
    } catch (error) {
      throw toTransportError(error);
    }
  }
}

class SimulatedTransport implements WhatsAppTransport {
  readonly kind = 'simulated' as const;
  constructor(private readonly logger: Logger) {}

  async send(request: OutboundRequest): Promise<SendResult> {
    const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
    this.logger.info({ sid, to: request.to, contentSid: request.contentSid }, 'simulated WhatsApp message sent');
    this.logger.debug({ sid, body: request.body }, 'simulated WhatsApp message body');
    return { sid, status: 'simulated' };
  }

  /** Nothing leaves the machine, so re-sending after a crash cannot duplicate anything. */
  async findRecentlySent(): Promise<SendResult[]> {
    return [];
  }
}

export interface TransportCacheOptions {
  /** Most tenants whose Twilio client is kept (default 10,000). */
  maxTenants?: number;
  /** A client unused for this long is dropped (default an hour). */
  idleMs?: number;
  /** Millisecond clock (tests pass their own). */
  now?: () => number;
}

/** Picks and caches the transport of each tenant (bounded in tenants and idle time). */
export class TransportRegistry {
  private readonly clients: LRUCache<string, { accountSid: string; token: string; transport: WhatsAppTransport }>;
  private readonly simulated: WhatsAppTransport;

  constructor(
    logger: Logger,
    private readonly apiBaseUrl?: string,
    /** The longest a Twilio request may take; the sender checks its lease outlasts it before sending. */
    readonly requestTimeoutMs = 15_000,
    cache: TransportCacheOptions = {},
  ) {
    this.simulated = new SimulatedTransport(logger);
    this.clients = boundedCache({
      max: cache.maxTenants ?? 10_000,
      ttlMs: cache.idleMs ?? 60 * 60_000,
      refreshOnRead: true,
      now: cache.now,
    });
  }

  /** How many tenants' clients are kept. */
  cachedClients(): number {
    this.clients.purgeStale();
    return this.clients.size;
  }

  /** Twilio when the tenant has an account SID, else the simulated transport. */
  transportFor({ tenant, credentials }: ResolvedTenant): WhatsAppTransport {
    if (!credentials.twilioAccountSid) return this.simulated;
    const cached = this.clients.get(tenant.id);
    // A new account or token (rotated credentials) gets a new client.
    const current = cached?.accountSid === credentials.twilioAccountSid && cached.token === credentials.twilioAuthToken;
    if (cached && current) return cached.transport;
    const transport = new TwilioTransport(
      createTwilioClient(credentials.twilioAccountSid, credentials.twilioAuthToken, this.apiBaseUrl, this.requestTimeoutMs),
    );
    this.clients.set(tenant.id, { accountSid: credentials.twilioAccountSid, token: credentials.twilioAuthToken, transport });
    return transport;
  }
}
