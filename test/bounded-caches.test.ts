/**
 * Every in-process cache is bounded in entries and in age: each one's bound, on an injected clock where the cache
 * takes one (no waiting), and the lookups a stranger can drive (unknown `To` numbers) at their bound.
 */
import pino from 'pino';
import type { EntityManager } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { boundedCache } from '../src/bounded-cache';
import type { InboundRow, InsertedInbound, MessageRepository } from '../src/db/repositories/message-repository';
import { TokenBucketLimiter } from '../src/http/rate-limit';
import { ProviderRegistry } from '../src/llm/provider-registry';
import { resolveRoutingPolicy } from '../src/llm/routing-policy';
import { cachedSpend } from '../src/llm/spend-cache';
import { countTextTokens, tokenCountCache } from '../src/llm/token-counter';
import { TenantLookups } from '../src/tenants/tenant-lookups';
import type { ResolvedTenant } from '../src/tenants/tenant-service';
import { ContentTemplates, FAILURE_BACKOFF_MS } from '../src/whatsapp/content-templates';
import { inboundParamsSchema } from '../src/whatsapp/inbound-params';
import { Inbox } from '../src/whatsapp/inbox';
import { quickReply } from '../src/whatsapp/rich-message';
import { TransportRegistry } from '../src/whatsapp/transport';

/** A clock the test moves by hand. */
function manualClock(start = 0) {
  let now = start;
  return { now: () => now, advance: (milliseconds: number) => (now += milliseconds) };
}

/** A resolved tenant as the caches see it (they read its id, credentials and settings only). */
function resolvedTenant(id: string, credentials: Record<string, string> = {}): ResolvedTenant {
  return {
    tenant: { id, settings: {} },
    settings: {},
    settingsProblems: [],
    credentials: { twilioAuthToken: 'token', ...credentials },
  } as unknown as ResolvedTenant;
}

describe('boundedCache', () => {
  it('keeps at most max entries, dropping the least recently used', () => {
    const cache = boundedCache<string, number>({ max: 3, ttlMs: 1_000 });
    for (const [index, key] of ['a', 'b', 'c'].entries()) cache.set(key, index);
    cache.get('a');
    cache.set('d', 3);
    expect([...cache.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(cache.size).toBe(3);
  });

  it('never returns an entry older than its time to live, on the injected clock (one starting at 0 included)', () => {
    const clock = manualClock(0);
    const cache = boundedCache<string, number>({ max: 10, ttlMs: 1_000, now: clock.now });
    cache.set('a', 1);
    clock.advance(1_000);
    expect(cache.get('a')).toBe(1);
    clock.advance(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('counts age from the last read with refreshOnRead (idle expiry)', () => {
    const clock = manualClock(5);
    const cache = boundedCache<string, number>({ max: 10, ttlMs: 1_000, refreshOnRead: true, now: clock.now });
    cache.set('busy', 1);
    cache.set('idle', 2);
    for (let step = 0; step < 5; step += 1) {
      clock.advance(600);
      expect(cache.get('busy')).toBe(1);
    }
    expect(cache.get('idle')).toBeUndefined();
  });

  it('bounds the total size when asked to', () => {
    const cache = boundedCache<string, number>({ max: 100, ttlMs: 1_000, maxSize: 10, sizeOf: (_value, key) => key.length });
    cache.set('aaaa', 1);
    cache.set('bbbb', 2);
    cache.set('cccc', 3);
    expect(cache.calculatedSize).toBeLessThanOrEqual(10);
    expect(cache.has('aaaa')).toBe(false);
  });

  it('refuses to build an unbounded cache', () => {
    expect(() => boundedCache({ max: 0, ttlMs: 1_000 })).toThrow(RangeError);
    expect(() => boundedCache({ max: 10, ttlMs: 0 })).toThrow(RangeError);
  });
});

describe('TenantLookups (the webhook tenant lookup cache)', () => {
  it('keeps 10,000 unknown numbers at its bound, without pushing out a known tenant', () => {
    const lookups = new TenantLookups({ maxTenants: 100, maxUnknownNumbers: 1_000 });
    const shop = resolvedTenant('shop');
    lookups.rememberNumber('+15550000000', shop, 5_000);
    for (let index = 0; index < 10_000; index += 1) lookups.rememberNumber(`+1999${String(index).padStart(7, '0')}`, null, 5_000);
    expect(lookups.sizes()).toEqual({ tenantsByNumber: 1, unknownNumbers: 1_000, tenantsById: 0 });
    expect(lookups.byNumber('+15550000000')).toBe(shop);
    expect(lookups.byNumber('+19990009999')).toBeNull();
    // The oldest unknown numbers went first: asked again, they are looked up again.
    expect(lookups.byNumber('+19990000000')).toBeUndefined();
  });

  it('forgets a number, known or unknown, after its time to live', () => {
    const clock = manualClock(1_000);
    const lookups = new TenantLookups({ now: clock.now });
    lookups.rememberNumber('+15550000000', resolvedTenant('shop'), 5_000);
    lookups.rememberNumber('+19990000000', null, 5_000);
    lookups.rememberId('shop', resolvedTenant('shop'), 5_000);
    clock.advance(5_000);
    expect(lookups.byNumber('+15550000000')).toBeDefined();
    expect(lookups.byNumber('+19990000000')).toBeNull();
    clock.advance(1);
    expect(lookups.byNumber('+15550000000')).toBeUndefined();
    expect(lookups.byNumber('+19990000000')).toBeUndefined();
    expect(lookups.byId('shop')).toBeUndefined();
    expect(lookups.sizes()).toEqual({ tenantsByNumber: 0, unknownNumbers: 0, tenantsById: 0 });
  });

  it('keeps at most maxTenants tenants by number and by id', () => {
    const lookups = new TenantLookups({ maxTenants: 5 });
    for (let index = 0; index < 50; index += 1) {
      lookups.rememberNumber(`+1555000${String(index).padStart(4, '0')}`, resolvedTenant(`t${index}`), 5_000);
      lookups.rememberId(`t${index}`, resolvedTenant(`t${index}`), 5_000);
    }
    expect(lookups.sizes()).toEqual({ tenantsByNumber: 5, unknownNumbers: 0, tenantsById: 5 });
  });

  it('moves a number from unknown to known when a tenant takes it', () => {
    const lookups = new TenantLookups();
    lookups.rememberNumber('+15550000000', null, 5_000);
    lookups.forgetNumber('+15550000000');
    expect(lookups.byNumber('+15550000000')).toBeUndefined();
    lookups.rememberNumber('+15550000000', null, 5_000);
    lookups.rememberNumber('+15550000000', resolvedTenant('shop'), 5_000);
    expect(lookups.byNumber('+15550000000')?.tenant.id).toBe('shop');
    expect(lookups.sizes().unknownNumbers).toBe(0);
  });
});

describe("Inbox's known conversations", () => {
  /** A message repository that inserts everything, remembering which statement each batch took. */
  function recordingRepository() {
    const statements: Array<'known' | 'finding'> = [];
    const insert = (rows: InboundRow[], conversationIds?: string[]): InsertedInbound[] =>
      rows.map(
        (row, index) =>
          ({
            id: `m-${row.sid}`,
            message_sid: row.sid,
            conversation_id: conversationIds?.[index] ?? `c-${row.address}`,
          }) as InsertedInbound,
      );
    const repository = {
      insertInboundForKnownConversations: async (rows: InboundRow[], ids: string[]) => {
        statements.push('known');
        return insert(rows, ids);
      },
      insertInboundFindingConversations: async (rows: InboundRow[]) => {
        statements.push('finding');
        return insert(rows);
      },
      findBySids: async () => [],
    } as unknown as MessageRepository;
    return { repository, statements };
  }
  const sid = (index: number) => `SM${index.toString(16).padStart(32, '0')}`;
  const params = (from: string, messageSid: string) => {
    const raw = {
      MessageSid: messageSid,
      AccountSid: `AC${'0'.repeat(32)}`,
      From: from,
      To: 'whatsapp:+15550000000',
      Body: 'hi',
      NumMedia: '0',
    };
    return [inboundParamsSchema.parse(raw), raw] as const;
  };

  it('remembers at most knownConversationLimit senders', async () => {
    const { repository } = recordingRepository();
    const inbox = new Inbox(repository, { knownConversationLimit: 3 });
    const shop = resolvedTenant('shop');
    for (let index = 0; index < 20; index += 1)
      await inbox.accept(shop, ...params(`whatsapp:+1555000${String(index).padStart(4, '0')}`, sid(index)));
    expect(inbox.knownConversationCount()).toBe(3);
  });

  it("looks a sender's conversation up again once the remembered one is older than knownConversationMs", async () => {
    const clock = manualClock(1);
    const { repository, statements } = recordingRepository();
    const inbox = new Inbox(repository, { knownConversationMs: 60_000, now: clock.now });
    const shop = resolvedTenant('shop');
    await inbox.accept(shop, ...params('whatsapp:+15550001111', sid(1)));
    clock.advance(60_000);
    await inbox.accept(shop, ...params('whatsapp:+15550001111', sid(2)));
    clock.advance(60_001);
    expect(inbox.knownConversationCount()).toBe(0);
    await inbox.accept(shop, ...params('whatsapp:+15550001111', sid(3)));
    expect(statements).toEqual(['finding', 'known', 'finding']);
  });
});

describe("ProviderRegistry's SDK clients", () => {
  const policy = resolveRoutingPolicy({});

  it('keeps at most max clients', () => {
    const registry = new ProviderRegistry({ openai: {}, gemini: {} }, {}, undefined, { max: 2 });
    for (let index = 0; index < 10; index += 1) registry.forTenant({ openaiApiKey: `sk-tenant-${index}` }, policy).get('openai');
    expect(registry.cachedClients()).toBe(2);
  });

  it('drops a client idle for an hour and builds a new one when it is needed again', () => {
    const clock = manualClock(1);
    const registry = new ProviderRegistry({ openai: {}, gemini: {} }, {}, undefined, { now: clock.now });
    const first = registry.forTenant({ openaiApiKey: 'sk-tenant' }, policy).get('openai');
    clock.advance(59 * 60_000);
    expect(registry.forTenant({ openaiApiKey: 'sk-tenant' }, policy).get('openai')).toBe(first);
    clock.advance(60 * 60_000 + 1);
    expect(registry.cachedClients()).toBe(0);
    const second = registry.forTenant({ openaiApiKey: 'sk-tenant' }, policy).get('openai');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
  });
});

describe("TransportRegistry's Twilio clients", () => {
  const twilioTenant = (id: string, accountSid = `AC${'1'.repeat(32)}`) =>
    resolvedTenant(id, { twilioAccountSid: accountSid, twilioAuthToken: 'token' });

  it('keeps at most maxTenants clients and drops idle ones', () => {
    const clock = manualClock(1);
    const registry = new TransportRegistry(pino({ level: 'silent' }), undefined, 15_000, { maxTenants: 3, idleMs: 60_000, now: clock.now });
    for (let index = 0; index < 10; index += 1) registry.transportFor(twilioTenant(`t${index}`));
    expect(registry.cachedClients()).toBe(3);
    clock.advance(60_001);
    expect(registry.cachedClients()).toBe(0);
  });

  it('builds a new client when the account changes, not only the token', () => {
    const registry = new TransportRegistry(pino({ level: 'silent' }));
    const first = registry.transportFor(twilioTenant('t1', `AC${'1'.repeat(32)}`));
    expect(registry.transportFor(twilioTenant('t1', `AC${'1'.repeat(32)}`))).toBe(first);
    expect(registry.transportFor(twilioTenant('t1', `AC${'2'.repeat(32)}`))).not.toBe(first);
  });
});

describe("ContentTemplates' failure backoff and creations in flight", () => {
  /** Twilio clients whose Content API refuses (or answers when `answer` is set), counting the calls. */
  function templatesWith(options: { maxKeys?: number; now?: () => number; answer?: Promise<{ sid: string }> }) {
    let calls = 0;
    const client = {
      content: {
        v1: {
          contents: {
            create: () => {
              calls += 1;
              return options.answer ?? Promise.reject(new Error('Content API unavailable'));
            },
          },
        },
      },
    };
    const transports = { transportFor: () => ({ kind: 'twilio', client }) } as unknown as TransportRegistry;
    const manager = { findOneBy: async () => null } as unknown as EntityManager;
    const templates = new ContentTemplates(manager, transports, pino({ level: 'silent' }), { maxKeys: options.maxKeys, now: options.now });
    return { templates, calls: () => calls };
  }
  const message = quickReply('Was this helpful?', [
    { id: 'yes', title: 'Yes' },
    { id: 'no', title: 'No' },
  ]);
  const tenant = (id: string) => resolvedTenant(id, { twilioAccountSid: `AC${'1'.repeat(32)}` });

  it('sends text for FAILURE_BACKOFF_MS after a failure, then tries again (on the injected clock)', async () => {
    const clock = manualClock(1);
    const { templates, calls } = templatesWith({ now: clock.now });
    expect(await templates.resolve(tenant('t1'), message)).toBeNull();
    clock.advance(FAILURE_BACKOFF_MS);
    expect(await templates.resolve(tenant('t1'), message)).toBeNull();
    expect(calls()).toBe(1);
    clock.advance(1);
    expect(templates.cacheSizes().failedRecently).toBe(0);
    expect(await templates.resolve(tenant('t1'), message)).toBeNull();
    expect(calls()).toBe(2);
  });

  it('remembers at most maxKeys failures', async () => {
    const { templates } = templatesWith({ maxKeys: 4 });
    for (let index = 0; index < 12; index += 1) await templates.resolve(tenant(`t${index}`), message);
    expect(templates.cacheSizes().failedRecently).toBe(4);
  });

  it('shares one creation between concurrent sends, and forgets it once settled', async () => {
    let answer!: (value: { sid: string }) => void;
    const { templates, calls } = templatesWith({ answer: new Promise((resolve) => (answer = resolve)) });
    const sends = [templates.resolve(tenant('t1'), message), templates.resolve(tenant('t1'), message)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(templates.cacheSizes().creating).toBe(1);
    answer({ sid: 'HX1' });
    // The fake manager stores nothing, so the creation fails to read its row back: both sends go as text.
    expect(await Promise.all(sends)).toEqual([null, null]);
    expect(calls()).toBe(1);
    expect(templates.cacheSizes().creating).toBe(0);
  });
});

describe('TokenBucketLimiter buckets', () => {
  it('tracks at most maxKeys keys', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 6, burst: 3, maxKeys: 50 });
    for (let index = 0; index < 10_000; index += 1) limiter.take(`client-${index}`);
    expect(limiter.trackedKeys()).toBe(50);
  });

  it('forgets a bucket once it would be full again (burst / refill rate), on the injected clock', () => {
    const clock = manualClock(1);
    const limiter = new TokenBucketLimiter({ perMinute: 6, burst: 3, now: clock.now });
    limiter.take('client');
    clock.advance(30_000);
    expect(limiter.trackedKeys()).toBe(1);
    clock.advance(1);
    expect(limiter.trackedKeys()).toBe(0);
    expect([1, 2, 3, 4].map(() => limiter.take('client').allowed)).toEqual([true, true, true, false]);
  });
});

describe("the reply generator's budget spend cache", () => {
  it('reads a tenant’s spend once per ttl and keeps at most maxTenants tenants', async () => {
    const clock = manualClock(1);
    const reads: string[] = [];
    const spendOf = cachedSpend(
      async (tenantId) => {
        reads.push(tenantId);
        return '1.50';
      },
      { ttlMs: 60_000, maxTenants: 2, now: clock.now },
    );
    expect(await spendOf('a')).toBe(1_500_000_000_000n);
    await spendOf('a');
    clock.advance(60_001);
    await spendOf('a');
    await spendOf('b');
    await spendOf('c');
    await spendOf('a');
    expect(reads).toEqual(['a', 'a', 'b', 'c', 'a']);
  });
});

describe('the token count memo', () => {
  it('is bounded in entries and in characters held', () => {
    for (let index = 0; index < 300; index += 1) countTextTokens(`${index} ${'word '.repeat(6_000)}`);
    for (let index = 0; index < 6_000; index += 1) countTextTokens(`short message ${index}`);
    expect(tokenCountCache.size).toBeLessThanOrEqual(5_000);
    expect(tokenCountCache.calculatedSize).toBeLessThanOrEqual(4_000_000);
  });
});
