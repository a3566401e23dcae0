/**
 * Downloads a customer's media from Twilio. The MediaUrl must be Twilio's REST API (api.twilio.com, or the configured
 * TWILIO_API_BASE_URL in tests); it is fetched with the tenant's Account SID and Auth Token as HTTP basic auth, and
 * Twilio answers with a redirect to its media storage. Redirects are followed only to Twilio's media hosts (the
 * SafeHttpClient drops the Authorization header whenever a redirect leaves the origin), the response's content type
 * must be one of the kind's, and its size is capped while it streams. The bytes stay in memory for the turn only.
 */
import { OutboundRequestError } from '../../net/outbound-error';
import { SafeHttpClient } from '../../net/safe-http';
import { allowedTypesOf, bareMediaType, MAX_MEDIA_BYTES, type MediaKind } from './media-kinds';

/**
 * Where Twilio's media redirects lead: mms.twiliocdn.com (media behind HTTP basic auth, short-lived URLs),
 * media.twiliocdn.com and other *.twiliocdn.com hosts, and the S3 endpoints of older public media
 * (s3-external-1.amazonaws.com/media.twiliocdn.com/...).
 */
const TWILIO_MEDIA_HOSTS = ['api.twilio.com', 's3-external-1.amazonaws.com', 's3.amazonaws.com'];
const TWILIO_MEDIA_DOMAIN = '.twiliocdn.com';

export type MediaDownloadFailure =
  /** The URL or a redirect pointed outside Twilio. */
  | 'forbidden_host'
  | 'too_large'
  | 'wrong_type'
  /** Twilio refused our credentials or no longer has the media. */
  | 'refused'
  | 'unreachable';

export type MediaDownload = { ok: true; data: Buffer; mediaType: string } | { ok: false; failure: MediaDownloadFailure; detail: string };

export interface MediaDownloaderOptions {
  /** TWILIO_API_BASE_URL: its origin stands in for api.twilio.com (tests, proxies) and may serve the media itself. */
  apiBaseUrl?: string;
  /** The SafeHttpClient's policy: https in production, the operator's allowlisted hosts (a test's fake Twilio). */
  requireHttps: boolean;
  allowedHosts?: readonly string[];
  /** Redirect targets accepted besides Twilio's (tests: a second fake standing in for the CDN). */
  extraMediaHosts?: readonly string[];
  timeoutMs?: number;
  /** Overrides MAX_MEDIA_BYTES per kind (tests). */
  maxBytes?: Partial<Record<Exclude<MediaKind, 'other'>, number>>;
}

/** Twilio credentials of the tenant that received the message. */
export interface TwilioMediaCredentials {
  accountSid: string;
  authToken: string;
}

/** Fetches media from Twilio under the checks above. */
export class MediaDownloader {
  private readonly http: SafeHttpClient;
  private readonly apiOrigin: string | undefined;
  private readonly extraHosts: readonly string[];

  constructor(private readonly options: MediaDownloaderOptions) {
    this.apiOrigin = options.apiBaseUrl ? new URL(options.apiBaseUrl).origin : undefined;
    const apiHost = options.apiBaseUrl ? new URL(options.apiBaseUrl).host : undefined;
    this.extraHosts = options.extraMediaHosts ?? [];
    this.http = new SafeHttpClient({
      requireHttps: options.requireHttps,
      allowedHosts: [...(options.allowedHosts ?? []), ...(apiHost ? [apiHost] : []), ...this.extraHosts],
      timeoutMs: options.timeoutMs ?? 20_000,
      maxRedirects: 3,
    });
  }

  /** True for Twilio's REST API origin (or the configured stand-in): the only place the credentials are sent. */
  isTwilioApi(url: URL): boolean {
    if (this.apiOrigin) return url.origin === this.apiOrigin;
    return url.protocol === 'https:' && url.hostname === 'api.twilio.com';
  }

  /** True for a host a media redirect may lead to. */
  isMediaHost(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    if (this.isTwilioApi(url) || this.extraHosts.includes(url.host)) return true;
    if (url.protocol !== 'https:') return false;
    return TWILIO_MEDIA_HOSTS.includes(host) || host.endsWith(TWILIO_MEDIA_DOMAIN);
  }

  /** Downloads one media item of `kind`; never throws for what Twilio or the network does. */
  async download(mediaUrl: string, kind: Exclude<MediaKind, 'other'>, credentials: TwilioMediaCredentials): Promise<MediaDownload> {
    let url: URL;
    try {
      url = new URL(mediaUrl);
    } catch {
      return { ok: false, failure: 'forbidden_host', detail: 'the media URL is not a URL' };
    }
    // Never send the tenant's credentials anywhere but Twilio's API, whatever a webhook says.
    if (!this.isTwilioApi(url)) return { ok: false, failure: 'forbidden_host', detail: `${url.origin} is not Twilio's API` };
    const allowed = allowedTypesOf(kind);
    const maxBytes = this.options.maxBytes?.[kind] ?? MAX_MEDIA_BYTES[kind];
    const authorization = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
    try {
      const response = await this.http.request(url, {
        headers: { authorization, accept: allowed.join(', ') },
        allowRedirect: (next) => this.isMediaHost(next),
        // Checked only on a successful answer: Twilio's errors are JSON.
        maxResponseBytes: maxBytes,
      });
      if (response.status === 401 || response.status === 403 || response.status === 404)
        return { ok: false, failure: 'refused', detail: `Twilio answered ${response.status}` };
      if (response.status !== 200) return { ok: false, failure: 'unreachable', detail: `Twilio answered ${response.status}` };
      const mediaType = bareMediaType(response.headers.get('content-type'));
      if (!allowed.includes(mediaType)) return { ok: false, failure: 'wrong_type', detail: `answered ${mediaType || 'no content type'}` };
      return { ok: true, data: response.body, mediaType };
    } catch (error) {
      if (error instanceof OutboundRequestError) {
        if (error.code === 'response_too_large') return { ok: false, failure: 'too_large', detail: `larger than ${maxBytes} bytes` };
        if (error.code === 'forbidden_url' || error.code === 'forbidden_address')
          return { ok: false, failure: 'forbidden_host', detail: error.message };
        return { ok: false, failure: 'unreachable', detail: error.message };
      }
      return { ok: false, failure: 'unreachable', detail: 'download failed' };
    }
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.http.close();
  }
}
