import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, startServer, type StartedServer } from '../support/processes';

// Each test runs two or three CLI processes; on a loaded machine that takes longer than the default 30 s.
describe('npm run chat shows the bot buttons and presses them through the real webhook path', { timeout: 120_000 }, () => {
  let server: StartedServer;
  let dataDirectory: string;
  let environment: Record<string, string>;

  beforeAll(async () => {
    dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-chat-buttons-'));
    server = await startServer({ PGLITE_DATA_DIR: path.join(dataDirectory, 'pglite') });
    environment = { PGLITE_DATA_DIR: path.join(dataDirectory, 'pglite'), LOG_LEVEL: 'silent' };
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDirectory, { recursive: true, force: true });
  });

  const chat = (...args: string[]) => runScript('src/cli/chat.ts', args, environment);

  it('shows 👍/👎 as buttons and records a press (sent as ButtonPayload) with a confirmation', async () => {
    const answer = await chat('--message', 'How long does shipping take?', '--from', '+15550001111');
    expect(answer.stderr).toBe('');
    expect(answer.stdout).toContain('Bot: Standard shipping takes 3-5 business days');
    expect(answer.stdout).toContain('     [1] 👍 Helpful   [2] 👎 Not helpful');
    expect(answer.stdout).not.toContain('Reply with a number.');
    const pressed = await chat('--press', '1', '--from', '+15550001111');
    expect(pressed.stderr).toBe('');
    expect(pressed.stdout.trim()).toBe('Bot: Thanks for your feedback! 🙏');
  });

  it('offers a person after 👎 and hands the conversation over when that button is pressed', async () => {
    await chat('--message', 'How long does shipping take?', '--from', '+15550002222');
    const sorry = await chat('--press', '2', '--from', '+15550002222');
    expect(sorry.stdout).toContain("Bot: Sorry that didn't help. Would you like to talk to a person?\n     [1] 🙋 Talk to a person");
    const handoff = await chat('--press', '1', '--from', '+15550002222');
    expect(handoff.stdout).toContain('A person from our team will reply here as soon as possible.');
  });

  it('refuses to press a button the latest message does not have', async () => {
    await chat('--message', 'How long does shipping take?', '--from', '+15550003333');
    await chat('--press', '1', '--from', '+15550003333');
    const none = await chat('--press', '1', '--from', '+15550003333');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("The bot's latest message has no button 1");
  });
});
