import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, startServer, type StartedServer } from '../support/processes';

describe('npm start + npm run chat on a fresh machine (embedded PGlite, demo tenant)', () => {
  let server: StartedServer;
  let dataDirectory: string;

  beforeAll(async () => {
    dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-chat-'));
    server = await startServer({ PGLITE_DATA_DIR: path.join(dataDirectory, 'pglite') });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('prints the webhook URL and how to chat', () => {
    expect(server.output()).toContain(`Twilio webhook URL:      ${server.baseUrl}/v1/webhooks/twilio/whatsapp`);
    expect(server.output()).toContain('npm run chat');
  });

  it('answers a signed message from the demo knowledge through the real webhook path', async () => {
    const environment = { PGLITE_DATA_DIR: path.join(dataDirectory, 'pglite'), LOG_LEVEL: 'silent' };
    const shipping = await runScript('src/cli/chat.ts', ['--message', 'How long does shipping take?'], environment);
    expect(shipping.stderr).toBe('');
    expect(shipping.stdout).toContain('Bot: Standard shipping takes 3-5 business days');
    const unknown = await runScript('src/cli/chat.ts', ['--message', 'Do you sell unicorns?', '--from', '+15550009999'], environment);
    expect(unknown.stdout).toContain("I'm sorry, I don't have an answer to that yet");
  });

  it('refuses a chat signed with the wrong token', async () => {
    const forged = await runScript(
      'src/cli/chat.ts',
      ['--message', 'hi', '--url', server.baseUrl, '--to', '+14155238886', '--token', 'wrong'],
      { LOG_LEVEL: 'silent', PGLITE_DATA_DIR: path.join(dataDirectory, 'nothing') },
    );
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/answered 403: .*invalid_signature/);
  });
});
