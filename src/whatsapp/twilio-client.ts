/** Creates twilio REST clients; TWILIO_API_BASE_URL redirects every domain Parley uses (tests, proxies). */
import twilio from 'twilio';

export type TwilioClient = ReturnType<typeof twilio>;

/**
 * A client for one account; with apiBaseUrl, api/content/messaging calls go there instead of *.twilio.com.
 * `timeoutMs` must stay below the work lease, so a slow send ends before another worker may take the message.
 */
export function createTwilioClient(accountSid: string, authToken: string, apiBaseUrl?: string, timeoutMs = 15_000): TwilioClient {
  const client = twilio(accountSid, authToken, { autoRetry: false, timeout: timeoutMs });
  if (apiBaseUrl) {
    const base = apiBaseUrl.replace(/\/+$/, '');
    client.api.baseUrl = base;
    client.content.baseUrl = base;
    client.messaging.baseUrl = base;
  }
  return client;
}

/** Checks X-Twilio-Signature with the twilio package's validator. */
export function isValidTwilioSignature(
  authToken: string,
  signature: string,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}
