/**
 * A model server for load benchmarks: OpenAI's chat-completions wire format on loopback, answering every request
 * after a fixed delay, as real models take seconds. It counts requests and the most it held at once, so a
 * benchmark can tell the model's own concurrency from Parley's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowModelServer {
  /** Base URL for OPENAI_BASE_URL (ends in /v1). */
  baseUrl: string;
  requests: number;
  /** When each request arrived (ms since the epoch), for a benchmark's timeline. */
  requestTimes: number[];
  /** The most requests held open at the same time. */
  peakConcurrent: number;
  close(): Promise<void>;
}

/** Starts the server; every answer comes `delayMs` after its request arrived. */
export async function startSlowModel(delayMs: number): Promise<SlowModelServer> {
  let open = 0;
  const state: SlowModelServer = { baseUrl: '', requests: 0, requestTimes: [], peakConcurrent: 0, close: async () => {} };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.requests += 1;
      state.requestTimes.push(Date.now());
      open += 1;
      state.peakConcurrent = Math.max(state.peakConcurrent, open);
      let model = 'gpt-4o-mini';
      try {
        model = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string }).model ?? model;
      } catch {
        // answer anyway: the benchmark measures Parley, not this server's parsing
      }
      setTimeout(() => {
        open -= 1;
        const body = JSON.stringify({
          id: `chatcmpl-${state.requests}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Thanks for writing! Your order ships within two days.', refusal: null },
              logprobs: null,
              finish_reason: 'stop',
            },
          ],
          usage: {
            prompt_tokens: 180,
            completion_tokens: 14,
            total_tokens: 194,
            prompt_tokens_details: { cached_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: 0 },
          },
        });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.end(body);
      }, delayMs);
    });
  });
  // Hundreds of turns wait on the model at once: no per-socket limits here.
  server.maxConnections = 10_000;
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
