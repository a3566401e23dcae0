/** The fault matrix shared by the fake OpenAI and Gemini servers, and the loopback HTTP plumbing they both use. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type LlmFault =
  | 'server_error' // 500
  | 'unavailable' // 503
  | 'rate_limit' // 429 with Retry-After
  | 'hang' // never answers (until the client gives up)
  | 'reset' // destroys the socket before answering
  | 'malformed_json' // 200 with a body that is not JSON
  | 'empty' // 200 with no choices / candidates
  | 'safety' // content filter / SAFETY block
  | 'context_length' // prompt too long for the model
  | 'unauthorized'; // 401

export interface FaultRule {
  fault: LlmFault;
  /** Only requests for this model; any model when absent. */
  model?: string;
  /** Only requests carrying this key (OpenAI's bearer token, Gemini's x-goog-api-key); any key when absent. */
  apiKey?: string;
  /** How many requests this rule answers; Infinity for a permanent outage. */
  times: number;
}

export interface ScriptedAnswer {
  text: string;
  usage?: { input?: number; cached?: number; output?: number; reasoning?: number };
}

export interface RecordedRequest {
  model: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  fault?: LlmFault;
}

/** The default answer: echoes the customer's last message. */
export const echoAnswer = (_request: RecordedRequest, lastUserText: string): ScriptedAnswer => ({ text: `echo: ${lastUserText}` });

/** The state a fake keeps: fault rules consumed in order, the answer function, and every request seen. */
export class FaultBook {
  readonly rules: FaultRule[] = [];
  readonly requests: RecordedRequest[] = [];
  retryAfterSeconds = 1;
  answer: (request: RecordedRequest, lastUserText: string) => ScriptedAnswer = echoAnswer;

  /** Adds a fault for the next `times` matching requests (default once). */
  fail(fault: LlmFault, options: { model?: string; apiKey?: string; times?: number } = {}): this {
    this.rules.push({ fault, model: options.model, apiKey: options.apiKey, times: options.times ?? 1 });
    return this;
  }

  /** The fault for this request, consuming one use of its rule. */
  take(model: string, headers: http.IncomingHttpHeaders = {}): LlmFault | undefined {
    const apiKey = headers['x-goog-api-key'] ?? headers.authorization?.replace(/^Bearer /, '');
    const rule = this.rules.find(
      (candidate) =>
        candidate.times > 0 && (!candidate.model || candidate.model === model) && (!candidate.apiKey || candidate.apiKey === apiKey),
    );
    if (!rule) return undefined;
    rule.times -= 1;
    return rule.fault;
  }

  /** Back to no faults, the echo answer and a 1 s Retry-After. */
  reset(): void {
    this.rules.length = 0;
    this.requests.length = 0;
    this.retryAfterSeconds = 1;
    this.answer = echoAnswer;
  }

  /** Models asked, in order. */
  modelsAsked(): string[] {
    return this.requests.map((request) => request.model);
  }
}

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1, port 0; hanging sockets are destroyed on close. */
export async function startLoopback(
  handler: (request: http.IncomingMessage, body: string, response: http.ServerResponse, raw: Buffer) => void,
): Promise<LoopbackServer> {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      handler(request, raw.toString('utf8'), response, raw);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The marker a test voice note carries (test/support/media-fixtures.ts): the fakes "hear" the text after it. */
export const SPOKEN_MARKER = Buffer.from('SPOKEN:');

/** What a test voice note says: the UTF-8 text between SPOKEN: and the next NUL byte; '' when it carries none. */
export function spokenText(audio: Buffer): string {
  const start = audio.indexOf(SPOKEN_MARKER);
  if (start < 0) return '';
  const from = start + SPOKEN_MARKER.length;
  const end = audio.indexOf(0, from);
  return audio.subarray(from, end < 0 ? audio.length : end).toString('utf8');
}

/** Writes a JSON response. */
export function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
