/**
 * Content API resources for rich messages. Parley creates one resource per tenant and message shape through the
 * twilio package and caches its SID in the database; a SID the tenant configured in settings wins. When no
 * resource can be had (simulated transport, Content API error) the caller sends the text fallback instead.
 */
import crypto from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ContentCreateRequest } from 'twilio/lib/rest/content/v1/content';
import type { EntityManager } from 'typeorm';
import { boundedCache } from '../bounded-cache';
import { ContentTemplate } from '../db/entities/content-template';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { parameterize, toContentTypes, type RichMessage } from './rich-message';
import type { TransportRegistry } from './transport';

export interface ContentReference {
  contentSid: string;
  contentVariables: Record<string, string>;
}

/** After a Content API failure, text fallbacks are used for this long before trying again. */
export const FAILURE_BACKOFF_MS = 60_000;
/** A creation still pending after this long no longer holds back other sends (the Twilio client times out sooner). */
const CREATION_WAIT_MS = 5 * 60_000;

export interface ContentTemplateCacheOptions {
  /** Most (tenant, account, shape) keys remembered, in each of the two caches (default 10,000). */
  maxKeys?: number;
  /** Millisecond clock (tests pass their own). */
  now?: () => number;
}

/** Stable key of a template's shape: its kind and a hash of its Content API types. */
export function templateKeyOf(template: RichMessage): string {
  const hash = crypto
    .createHash('sha256')
    .update(JSON.stringify(toContentTypes(template)))
    .digest('hex')
    .slice(0, 24);
  return `${template.kind}:${hash}`;
}

/** Finds or creates the content resources rich messages are sent with. */
export class ContentTemplates {
  /** Creations in flight, so concurrent sends of one shape wait for one creation instead of making duplicates. */
  private readonly creating: LRUCache<string, Promise<string | null>>;
  /** Shapes whose creation failed within FAILURE_BACKOFF_MS: they go as text until then. */
  private readonly failedRecently: LRUCache<string, true>;

  constructor(
    private readonly manager: EntityManager,
    private readonly transports: TransportRegistry,
    private readonly logger: Logger,
    cache: ContentTemplateCacheOptions = {},
  ) {
    const max = cache.maxKeys ?? 10_000;
    this.creating = boundedCache({ max, ttlMs: CREATION_WAIT_MS, now: cache.now });
    this.failedRecently = boundedCache({ max, ttlMs: FAILURE_BACKOFF_MS, now: cache.now });
  }

  /** How many keys each cache holds (at most maxKeys each). */
  cacheSizes(): { creating: number; failedRecently: number } {
    this.creating.purgeStale();
    this.failedRecently.purgeStale();
    return { creating: this.creating.size, failedRecently: this.failedRecently.size };
  }

  /**
   * How to send `message` with real buttons: a content SID and this send's variables; null when it must go as text.
   * `configuredName` names the tenant setting (settings.contentSids[name]) that may hold the tenant's own SID.
   */
  async resolve(resolved: ResolvedTenant, message: RichMessage, configuredName?: string): Promise<ContentReference | null> {
    const { template, variables } = parameterize(message);
    const configured = configuredName ? resolved.settings.contentSids?.[configuredName] : undefined;
    if (typeof configured === 'string' && configured !== '') return { contentSid: configured, contentVariables: variables };
    const transport = this.transports.transportFor(resolved);
    const accountSid = resolved.credentials.twilioAccountSid;
    if (transport.kind !== 'twilio' || !transport.client || !accountSid) return null;
    const templateKey = templateKeyOf(template);
    const cacheKey = `${resolved.tenant.id}:${accountSid}:${templateKey}`;
    if (this.failedRecently.has(cacheKey)) return null;
    const stored = await this.manager.findOneBy(ContentTemplate, { tenantId: resolved.tenant.id, templateKey, accountSid });
    if (stored) return { contentSid: stored.contentSid, contentVariables: variables };
    // One creation per shape per process at a time; concurrent sends wait for it instead of creating duplicates.
    let pending = this.creating.get(cacheKey);
    if (!pending) {
      const creation = this.create(resolved, transport.client, template, templateKey, accountSid).finally(() => {
        // Only its own entry: one that outlived CREATION_WAIT_MS may have been replaced by a newer creation.
        if (this.creating.peek(cacheKey) === creation) this.creating.delete(cacheKey);
      });
      this.creating.set(cacheKey, creation);
      pending = creation;
    }
    const contentSid = await pending;
    if (!contentSid) {
      this.failedRecently.set(cacheKey, true);
      return null;
    }
    return { contentSid, contentVariables: variables };
  }

  /** Forgets a stored resource Twilio no longer accepts (deleted, or of another account); the next send creates a new one. */
  async forget(tenantId: string, contentSid: string): Promise<void> {
    await this.manager.delete(ContentTemplate, { tenantId, contentSid });
  }

  private async create(
    resolved: ResolvedTenant,
    client: NonNullable<ReturnType<TransportRegistry['transportFor']>['client']>,
    template: RichMessage,
    templateKey: string,
    accountSid: string,
  ): Promise<string | null> {
    const log = this.logger.child({ tenantId: resolved.tenant.id, templateKey });
    try {
      // The package passes the request through as the JSON body, so it is written in Twilio's wire names.
      const request = {
        friendly_name: `parley_${templateKey.replace(/[^a-z0-9]+/gi, '_')}`,
        language: 'en',
        variables: sampleVariables(template),
        types: toContentTypes(template),
      } as unknown as ContentCreateRequest;
      const content = await client.content.v1.contents.create(request);
      await this.manager
        .createQueryBuilder()
        .insert()
        .into(ContentTemplate)
        .values({ tenantId: resolved.tenant.id, templateKey, accountSid, contentSid: content.sid })
        .orIgnore()
        .execute();
      // Another instance may have stored its own resource first; everyone uses the stored one.
      const stored = await this.manager.findOneByOrFail(ContentTemplate, { tenantId: resolved.tenant.id, templateKey, accountSid });
      log.info({ contentSid: stored.contentSid }, 'content resource created');
      return stored.contentSid;
    } catch (error) {
      log.warn({ err: error }, 'content resource could not be created; sending a text fallback');
      return null;
    }
  }
}

/** Sample values for the template's variables (Twilio asks for one per variable). */
function sampleVariables(template: RichMessage): Record<string, string> {
  const samples: Record<string, string> = {};
  const text = JSON.stringify(template);
  for (const match of text.matchAll(/\{\{(\d+)\}\}/g)) samples[match[1]] = match[1] === '1' ? 'Message text' : `option_${match[1]}`;
  return samples;
}
