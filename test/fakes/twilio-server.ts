/**
 * A loopback server speaking Twilio's REST wire protocol for what Parley uses: the Messages API
 * (form-encoded POST .../Messages.json), the Content API (JSON POST/GET /v1/Content) and the typing indicator
 * (form-encoded POST /v2/Indicators/Typing.json, on the messaging domain). The real twilio
 * package talks to it through TWILIO_API_BASE_URL. Faults can be queued per endpoint.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedMessage {
  sid: string;
  accountSid: string;
  params: Record<string, string>;
  receivedAt: number;
  /** What Twilio reports as the body: Body, or a content resource's body rendered with ContentVariables. */
  body: string;
}

export interface RecordedContent {
  sid: string;
  accountSid: string;
  body: Record<string, unknown>;
}

export type TwilioFault =
  | { kind: 'status'; status: number; code?: number; message?: string }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** No answer until releaseHeld() (a stalled Twilio; the test decides when it recovers). */
  | { kind: 'hold' };

/** A typing indicator Parley asked for (POST messaging /v2/Indicators/Typing.json). */
export interface RecordedTypingIndicator {
  accountSid: string;
  messageId: string;
  channel: string;
}

type Endpoint = 'messages' | 'content' | 'typing';

/** A customer's media as Twilio stores it. */
export interface FakeMedia {
  data: Buffer;
  contentType: string;
  /** Where the API's redirect leads instead of the fake's own storage path (a wrong host, in tests). */
  redirect?: string;
  /** The content type the storage answers with, when it differs from the declared one. */
  servedContentType?: string;
}

/** One request for media: the path asked and the Authorization header it carried. */
export interface MediaRequest {
  path: string;
  authorization: string | undefined;
}

export interface FakeTwilioServer {
  url: string;
  messages: RecordedMessage[];
  contents: RecordedContent[];
  /** Typing indicators answered successfully. */
  typingIndicators: RecordedTypingIndicator[];
  /** Requests per endpoint, faults included. */
  requestCounts: Record<Endpoint, number>;
  /** Queues faults consumed one per request of that endpoint. */
  injectFault(endpoint: Endpoint, ...faults: TwilioFault[]): void;
  /** Lets every request held by a 'hold' fault go on. */
  releaseHeld(): void;
  /** Credentials accepted (account SID -> auth token); others get 401. */
  accounts: Map<string, string>;
  /**
   * Stores media behind the Media resource of the account: its URL (MediaUrlN) demands HTTP basic auth and redirects
   * (307) to the fake's storage path, as Twilio redirects to its CDN.
   */
  addMedia(accountSid: string, media: FakeMedia): string;
  /** Every media request, API and storage, in order. */
  mediaRequests: MediaRequest[];
  reset(): void;
  close(): Promise<void>;
}

const sid = (prefix: string) => `${prefix}${crypto.randomBytes(16).toString('hex')}`;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Starts the fake on a free loopback port. */
export async function startFakeTwilio(): Promise<FakeTwilioServer> {
  const faults: Record<Endpoint, TwilioFault[]> = { messages: [], content: [], typing: [] };
  let held: Array<() => void> = [];
  const media = new Map<string, FakeMedia & { accountSid: string }>();
  const state: FakeTwilioServer = {
    url: '',
    messages: [],
    contents: [],
    typingIndicators: [],
    requestCounts: { messages: 0, content: 0, typing: 0 },
    accounts: new Map(),
    mediaRequests: [],
    addMedia(accountSid, item) {
      const mediaSid = sid('ME');
      media.set(mediaSid, { ...item, accountSid });
      return `${state.url}/2010-04-01/Accounts/${accountSid}/Messages/${sid('MM')}/Media/${mediaSid}`;
    },
    injectFault(endpoint, ...more) {
      faults[endpoint].push(...more);
    },
    releaseHeld() {
      for (const release of held) release();
      held = [];
    },
    reset() {
      state.messages.length = 0;
      state.contents.length = 0;
      state.typingIndicators.length = 0;
      state.requestCounts.messages = 0;
      state.requestCounts.content = 0;
      state.requestCounts.typing = 0;
      faults.messages.length = 0;
      faults.content.length = 0;
      faults.typing.length = 0;
      media.clear();
      state.mediaRequests.length = 0;
      state.releaseHeld();
    },
    close: async () => {},
  };

  const authenticate = (request: http.IncomingMessage): string | null => {
    const header = request.headers.authorization ?? '';
    const [scheme, encoded] = header.split(' ');
    if (scheme !== 'Basic' || !encoded) return null;
    const [user, password] = Buffer.from(encoded, 'base64').toString('utf8').split(':');
    return state.accounts.get(user) === password ? user : null;
  };

  /** Applies the next queued fault; true when the request has been answered by it. */
  const applyFault = async (endpoint: Endpoint, request: http.IncomingMessage, response: http.ServerResponse) => {
    const fault = faults[endpoint].shift();
    if (!fault) return false;
    if (fault.kind === 'delay') {
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return false;
    }
    if (fault.kind === 'hold') {
      await new Promise<void>((resolve) => held.push(resolve));
      return false;
    }
    if (fault.kind === 'reset') {
      request.socket.destroy();
      return true;
    }
    sendJson(response, fault.status, {
      code: fault.code ?? fault.status * 100,
      message: fault.message ?? 'Injected fault',
      status: fault.status,
    });
    return true;
  };

  /** The body Twilio renders for a content send: the resource's first type's body with the variables filled in. */
  const renderContent = (params: Record<string, string>): string => {
    const content = state.contents.find((candidate) => candidate.sid === params.ContentSid);
    const types = (content?.body.types ?? {}) as Record<string, { body?: string }>;
    const template = Object.values(types)[0]?.body ?? '';
    let variables: Record<string, string> = {};
    try {
      variables = JSON.parse(params.ContentVariables ?? '{}') as Record<string, string>;
    } catch {
      variables = {};
    }
    return template.replace(/\{\{(\d+)\}\}/g, (_match, name: string) => variables[name] ?? '');
  };

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const body = await readBody(request);
    const messagesMatch = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(url.pathname);
    if (messagesMatch && request.method === 'POST') {
      state.requestCounts.messages += 1;
      if (await applyFault('messages', request, response)) return;
      const accountSid = authenticate(request);
      if (!accountSid || accountSid !== messagesMatch[1])
        return sendJson(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const params = Object.fromEntries(new URLSearchParams(body));
      if (!params.To || !params.From || (!params.Body && !params.ContentSid)) {
        return sendJson(response, 400, { code: 21602, message: 'Message body or ContentSid is required', status: 400 });
      }
      const message: RecordedMessage = {
        sid: sid('SM'),
        accountSid,
        params,
        receivedAt: Date.now(),
        body: params.Body ?? renderContent(params),
      };
      state.messages.push(message);
      return sendJson(response, 201, {
        sid: message.sid,
        account_sid: accountSid,
        to: params.To,
        from: params.From,
        body: message.body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
      });
    }
    const mediaMatch = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/MM[0-9a-f]{32}\/Media\/(ME[0-9a-f]{32})$/.exec(url.pathname);
    if (mediaMatch && request.method === 'GET') {
      state.mediaRequests.push({ path: url.pathname, authorization: request.headers.authorization });
      const accountSid = authenticate(request);
      if (!accountSid || accountSid !== mediaMatch[1])
        return sendJson(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const found = media.get(mediaMatch[2]);
      if (!found || found.accountSid !== accountSid) return sendJson(response, 404, { code: 20404, message: 'Not found', status: 404 });
      // Twilio answers with a short-lived URL on its media storage.
      response.writeHead(307, { location: found.redirect ?? `${state.url}/media-storage/${mediaMatch[2]}` });
      return response.end();
    }
    const storageMatch = /^\/media-storage\/(ME[0-9a-f]{32})$/.exec(url.pathname);
    if (storageMatch && request.method === 'GET') {
      state.mediaRequests.push({ path: url.pathname, authorization: request.headers.authorization });
      const found = media.get(storageMatch[1]);
      if (!found) return sendJson(response, 404, { code: 20404, message: 'Not found', status: 404 });
      response.writeHead(200, {
        'content-type': found.servedContentType ?? found.contentType,
        'content-length': String(found.data.length),
      });
      return response.end(found.data);
    }
    const listMatch = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/.exec(url.pathname);
    if (listMatch && request.method === 'GET') {
      const accountSid = authenticate(request);
      if (!accountSid || accountSid !== listMatch[1]) return sendJson(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const after = url.searchParams.get('DateSent>');
      const found = state.messages.filter(
        (message) =>
          message.accountSid === accountSid &&
          (!to || message.params.To === to) &&
          (!from || message.params.From === from) &&
          (!after || message.receivedAt >= Date.parse(after)),
      );
      return sendJson(response, 200, {
        messages: found.map((message) => ({
          sid: message.sid,
          account_sid: accountSid,
          to: message.params.To,
          from: message.params.From,
          body: message.body,
          status: 'sent',
          date_created: new Date(message.receivedAt).toUTCString(),
          direction: 'outbound-api',
        })),
        page: 0,
        page_size: 50,
        first_page_uri: url.pathname,
        next_page_uri: null,
        previous_page_uri: null,
        uri: url.pathname,
      });
    }
    if (url.pathname === '/v2/Indicators/Typing.json' && request.method === 'POST') {
      state.requestCounts.typing += 1;
      if (await applyFault('typing', request, response)) return;
      const accountSid = authenticate(request);
      if (!accountSid) return sendJson(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const params = Object.fromEntries(new URLSearchParams(body));
      if (params.channel !== 'whatsapp' || !/^(SM|MM)[0-9a-f]{32}$/.test(params.messageId ?? '')) {
        return sendJson(response, 400, { code: 21211, message: 'channel must be whatsapp and messageId a message SID', status: 400 });
      }
      state.typingIndicators.push({ accountSid, messageId: params.messageId, channel: params.channel });
      return sendJson(response, 200, { success: true });
    }
    if (url.pathname === '/v1/Content' && request.method === 'POST') {
      state.requestCounts.content += 1;
      if (await applyFault('content', request, response)) return;
      const accountSid = authenticate(request);
      if (!accountSid) return sendJson(response, 401, { code: 20003, message: 'Authenticate', status: 401 });
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return sendJson(response, 400, { code: 20001, message: 'Invalid JSON', status: 400 });
      }
      const content: RecordedContent = { sid: sid('HX'), accountSid, body: parsed };
      state.contents.push(content);
      return sendJson(response, 201, {
        sid: content.sid,
        account_sid: accountSid,
        friendly_name: parsed.friendly_name,
        language: parsed.language,
        variables: parsed.variables ?? {},
        types: parsed.types ?? {},
        url: `${state.url}/v1/Content/${content.sid}`,
        date_created: new Date().toISOString(),
        date_updated: new Date().toISOString(),
        links: {},
      });
    }
    const contentMatch = /^\/v1\/Content\/(HX[0-9a-f]{32})$/.exec(url.pathname);
    if (contentMatch && request.method === 'GET') {
      const found = state.contents.find((content) => content.sid === contentMatch[1]);
      if (!found) return sendJson(response, 404, { code: 20404, message: 'Not found', status: 404 });
      return sendJson(response, 200, { sid: found.sid, account_sid: found.accountSid, ...found.body });
    }
    sendJson(response, 404, { code: 20404, message: `No fake for ${request.method} ${url.pathname}`, status: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
