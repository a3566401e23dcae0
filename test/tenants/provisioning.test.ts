import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config';
import { KnowledgeEntry } from '../../src/db/entities/knowledge-entry';
import { Tenant } from '../../src/db/entities/tenant';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { buildServices } from '../../src/services';
import { DEMO_WHATSAPP_NUMBER, provisionTenants } from '../../src/tenants/bootstrap';
import { createTenant, inboundParams, postInbound } from '../support/factories';
import { createTestContext, silentLogger, useTestContext } from '../support/test-context';

describe('start-up provisioning', () => {
  const context = useTestContext();
  beforeEach(async () => {
    context.services.tenants.invalidate();
  });

  const tenants = () => context.database.dataSource.manager.find(Tenant);

  it('creates the default tenant from TWILIO_* when there is no tenant yet', async () => {
    const config = parseConfig({
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'env-token',
      TWILIO_WHATSAPP_NUMBER: '+15017122661',
    });
    await provisionTenants(config, context.database.dataSource, context.services, silentLogger, false);
    const [tenant] = await tenants();
    expect(tenant).toMatchObject({ name: 'Default', whatsappNumber: '+15017122661' });
    const resolved = await context.services.tenants.findById(tenant.id);
    expect(resolved?.credentials).toMatchObject({ twilioAccountSid: `AC${'a'.repeat(32)}`, twilioAuthToken: 'env-token' });
  });

  it('creates the demo tenant with knowledge in embedded mode only, and nothing once a tenant exists', async () => {
    await provisionTenants(parseConfig({}), context.database.dataSource, context.services, silentLogger, false);
    expect(await tenants()).toHaveLength(0);
    await provisionTenants(parseConfig({}), context.database.dataSource, context.services, silentLogger, true);
    const [demo] = await tenants();
    expect(demo.whatsappNumber).toBe(DEMO_WHATSAPP_NUMBER);
    expect(await context.database.dataSource.manager.count(KnowledgeEntry, { where: { tenantId: demo.id } })).toBeGreaterThanOrEqual(5);
    await provisionTenants(
      parseConfig({ TWILIO_ACCOUNT_SID: `AC${'b'.repeat(32)}`, TWILIO_AUTH_TOKEN: 't', TWILIO_WHATSAPP_NUMBER: '+15017122662' }),
      context.database.dataSource,
      context.services,
      silentLogger,
      true,
    );
    expect(await tenants()).toHaveLength(1);
  });
});

describe('logs at info level', () => {
  it('carry tenant and conversation ids but never message bodies or secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const context = await createTestContext();
    try {
      const logger = createLogger('info', sink);
      const services = buildServices(context.config, context.database.dataSource, context.encryptionKey, logger);
      const app = createApp(services);
      const shop = await createTenant(context, { credentials: { twilioAuthToken: 'token-must-not-leak' } });
      await postInbound(
        { app, config: context.config },
        shop,
        inboundParams(shop, { Body: 'my secret phrase is quixotic-zebra-xylophone' }),
      ).expect(200);
      await services.processor.drain();
      const output = lines.join('');
      expect(output).toContain(shop.tenant.id);
      expect(output).toMatch(/"conversationId":"[0-9a-f-]{36}"/);
      expect(output).not.toContain('quixotic-zebra-xylophone');
      expect(output).not.toContain('token-must-not-leak');
    } finally {
      await context.close();
    }
  });
});
