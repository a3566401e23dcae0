/**
 * WhatsApp's typing indicator, shown through Twilio's Typing Indicators API (POST messaging.twilio.com/v2/Indicators/
 * Typing.json with channel=whatsapp and messageId, the SID of the customer's message) when a turn starts. It also
 * marks the customer's message read, and WhatsApp hides it when the reply arrives or after about 25 s.
 *
 * Best effort: the request runs in the background, never awaited by the turn, so a slow or failing Twilio never
 * delays or fails the reply; it gives up after a short timeout, and failures are logged and counted.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics';
import type { ResolvedTenant } from '../tenants/tenant-service';
import type { TransportRegistry } from './transport';

/** Past this the indicator would barely show before the reply anyway. */
export const TYPING_INDICATOR_TIMEOUT_MS = 3_000;

/** Typing indicators requested and not yet settled, at most; beyond, new ones are skipped (a stalled Twilio). */
const MAX_IN_FLIGHT = 1_000;

class TypingTimeout extends Error {}

export class TypingIndicator {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly transports: TransportRegistry,
    private readonly metrics: Pick<Metrics, 'recordTypingIndicator'>,
    private readonly logger: Logger,
    private readonly timeoutMs = TYPING_INDICATOR_TIMEOUT_MS,
  ) {}

  /**
   * Starts showing the indicator for the customer's message `messageSid`, in the background. Nothing happens for a
   * tenant that turned it off (whatsapp.typingIndicator: false), without Twilio (simulated), or without a SID.
   */
  show(resolved: ResolvedTenant, messageSid: string | null): void {
    if (!messageSid || resolved.settings.whatsapp?.typingIndicator === false) return;
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    const transport = this.transports.transportFor(resolved);
    if (transport.kind !== 'twilio' || !transport.client) return;
    const client = transport.client;
    const log = this.logger.child({ tenantId: resolved.tenant.id, messageSid });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new TypingTimeout()), this.timeoutMs);
    });
    // Built on the next turn of the event loop: the turn's own first queries go out before the twilio client builds
    // this request (the first one also loads its messaging module).
    const request = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      client.messaging.v2.typingIndicator.create({ channel: 'whatsapp', messageId: messageSid }),
    );
    // The request may still settle after the timeout: its outcome is no longer anyone's concern.
    request.catch(() => {});
    const work = Promise.race([request, timeout])
      .then(() => this.metrics.recordTypingIndicator('shown'))
      .catch((error: unknown) => {
        const timedOut = error instanceof TypingTimeout;
        this.metrics.recordTypingIndicator(timedOut ? 'timeout' : 'failed');
        log.warn({ err: timedOut ? undefined : error, timeoutMs: timedOut ? this.timeoutMs : undefined }, 'typing indicator not shown');
      })
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(work);
      });
    this.inFlight.add(work);
  }

  /** Waits for the indicators in flight to settle (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
