/**
 * `npm run chat`: chat with a running Parley as a WhatsApp customer would. Each line is sent as a properly signed
 * Twilio webhook to the server; the bot's replies are read back from the simulated transport.
 *   npm run chat [-- --url http://localhost:3000 --to +14155238886 --token TOKEN --from +15550001234 --message "hi"]
 * Without options it uses the demo profile `npm start` wrote beside the embedded database.
 * With --message it sends that one message, prints the replies and exits (scripts, tests); --press N instead taps
 * button N of the bot's latest message. Interactively, typing a button's number taps it (sent as ButtonPayload).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import twilio from 'twilio';
import { loadConfigOrExit } from '../config';
import type { OfferedChoice } from '../db/entities/message';
import { chatProfilePath, type ChatProfile } from '../tenants/bootstrap';
import { toE164 } from '../tenants/whatsapp-number';
import { numberedOptions } from '../whatsapp/rich-message';

interface Reply {
  seq: number;
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  choices?: OfferedChoice[] | null;
  author: string;
}

interface ChatSession {
  profile: ChatProfile;
  customer: string;
  profileName: string;
  lastSeq: number;
  /** Buttons of the bot's latest message, which a typed number taps. */
  buttons: OfferedChoice[];
}

/** Signs and posts one inbound message; extra parameters (ButtonPayload, ...) are sent as Twilio would. */
export async function sendInbound(session: ChatSession, body: string, extra: Record<string, string> = {}): Promise<void> {
  const path = '/v1/webhooks/twilio/whatsapp';
  const params: Record<string, string> = {
    MessageSid: `SM${crypto.randomBytes(16).toString('hex')}`,
    AccountSid: `AC${'0'.repeat(32)}`,
    From: session.customer,
    To: `whatsapp:${session.profile.tenantNumber}`,
    Body: body,
    NumMedia: '0',
    ProfileName: session.profileName,
    WaId: session.customer.replace(/^whatsapp:\+/, ''),
    MessageType: extra.ButtonPayload ? 'button' : 'text',
    ...extra,
  };
  const url = `${session.profile.baseUrl}${path}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(session.profile.authToken, url, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  if (!response.ok) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
}

/** Fetches replies newer than the last one seen. */
export async function fetchReplies(session: ChatSession): Promise<Reply[]> {
  const query = new URLSearchParams({
    tenant: `whatsapp:${session.profile.tenantNumber}`,
    customer: session.customer,
    after: String(session.lastSeq),
  });
  const url = `${session.profile.baseUrl}/v1/simulator/replies?${query.toString()}`;
  const response = await fetch(url, {
    headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(session.profile.authToken, url, {}) },
  });
  if (!response.ok) throw new Error(`simulator answered ${response.status}: ${await response.text()}`);
  const { replies } = (await response.json()) as { replies: Reply[] };
  if (replies.length > 0) {
    session.lastSeq = replies[replies.length - 1].seq;
    session.buttons = replies[replies.length - 1].choices ?? [];
  }
  return replies;
}

/** Waits for the replies to one message: until some arrive and then a short quiet period, or the timeout. */
export async function awaitReplies(session: ChatSession, timeoutMs = 20_000): Promise<Reply[]> {
  const collected: Reply[] = [];
  const deadline = Date.now() + timeoutMs;
  let quietSince = 0;
  while (Date.now() < deadline) {
    const replies = await fetchReplies(session);
    collected.push(...replies);
    if (replies.length > 0) quietSince = Date.now();
    if (collected.length > 0 && Date.now() - quietSince > 600) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return collected;
}

/** Renders a reply for the terminal; buttons show as "[1] 👍 Helpful" instead of the numbered text fallback. */
export function renderReply(reply: Reply): string {
  const who = reply.author === 'agent' ? 'Agent' : 'Bot';
  const buttons = reply.choices ?? [];
  if (buttons.length === 0) return `${who}: ${reply.body}`;
  const suffix = numberedOptions(buttons);
  const text = reply.contentVariables?.['1'] ?? (reply.body.endsWith(suffix) ? reply.body.slice(0, -suffix.length) : reply.body);
  return `${who}: ${text}\n     ${buttons.map((button, index) => `[${index + 1}] ${button.title}`).join('   ')}`;
}

/** Taps button `number` (1-based) of the bot's latest message, as WhatsApp posts a tap; false when there is none. */
export async function pressButton(session: ChatSession, number: number): Promise<boolean> {
  const button = session.buttons[number - 1];
  if (!button) return false;
  await sendInbound(session, button.title, { ButtonPayload: button.id, ButtonText: button.title });
  return true;
}

function loadProfile(options: Record<string, string | undefined>): ChatProfile {
  const config = loadConfigOrExit();
  let profile: Partial<ChatProfile> = {};
  const file = chatProfilePath(config);
  if (fs.existsSync(file)) profile = JSON.parse(fs.readFileSync(file, 'utf8')) as ChatProfile;
  const tenantNumber = options.to ? toE164(options.to) : profile.tenantNumber;
  const resolved = {
    baseUrl: (options.url ?? profile.baseUrl ?? config.publicBaseUrl).replace(/\/+$/, ''),
    tenantNumber: tenantNumber ?? undefined,
    authToken: options.token ?? profile.authToken ?? config.twilio.authToken,
  };
  if (!resolved.tenantNumber || !resolved.authToken) {
    throw new Error('No chat profile: start the server with `npm start` first, or pass --to and --token');
  }
  return resolved as ChatProfile;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      to: { type: 'string' },
      token: { type: 'string' },
      from: { type: 'string' },
      name: { type: 'string' },
      message: { type: 'string' },
      press: { type: 'string' },
    },
  });
  const profile = loadProfile(values);
  const customerNumber = toE164(values.from ?? '+15550001234');
  if (!customerNumber) throw new Error('--from must be a phone number like +15550001234');
  const session: ChatSession = {
    profile,
    customer: `whatsapp:${customerNumber}`,
    profileName: values.name ?? 'You',
    lastSeq: 0,
    buttons: [],
  };
  await fetchReplies(session); // skip history: show only what this session gets

  if (values.press !== undefined) {
    if (!(await pressButton(session, Number(values.press)))) throw new Error(`The bot's latest message has no button ${values.press}`);
  } else if (values.message !== undefined) {
    await sendInbound(session, values.message);
  }
  if (values.message !== undefined || values.press !== undefined) {
    const replies = await awaitReplies(session);
    for (const reply of replies) process.stdout.write(`${renderReply(reply)}\n`);
    if (replies.length === 0) process.stdout.write('(no reply)\n');
    return;
  }

  process.stdout.write(
    `Chatting with ${profile.tenantNumber} at ${profile.baseUrl} as ${customerNumber}. Type a message (a button's number taps it); Ctrl+D to quit.\n`,
  );
  const terminal = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'You: ' });
  terminal.prompt();
  for await (const line of terminal) {
    const text = line.trim();
    if (text) {
      try {
        const pressed = /^\d{1,2}$/.test(text) && (await pressButton(session, Number(text)));
        if (!pressed) await sendInbound(session, text);
        const replies = await awaitReplies(session);
        for (const reply of replies) process.stdout.write(`${renderReply(reply)}\n`);
        if (replies.length === 0) process.stdout.write('(no reply yet: a person may be handling this conversation)\n');
      } catch (error) {
        process.stdout.write(`! ${(error as Error).message}\n`);
      }
    }
    terminal.prompt();
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`chat failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
