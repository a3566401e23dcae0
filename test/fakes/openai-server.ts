/** A loopback server speaking OpenAI's chat completions and embeddings wire formats, with an injectable fault matrix. */
import { fakeEmbedding } from './fake-embedding';
import { FaultBook, type LlmFault, type LoopbackServer, type RecordedRequest, sendJson, startLoopback } from './llm-faults';
import type http from 'node:http';

export interface FakeOpenAIServer extends LoopbackServer {
  /** Pass as baseURL: ends in /v1 like the real API. */
  baseUrl: string;
  book: FaultBook;
}

function openaiError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

function answerFault(fault: LlmFault, book: FaultBook, model: string, response: http.ServerResponse): void {
  switch (fault) {
    case 'server_error':
      sendJson(response, 500, openaiError('The server had an error', 'server_error', null));
      return;
    case 'unavailable':
      sendJson(response, 503, openaiError('The engine is currently overloaded', 'server_error', null));
      return;
    case 'rate_limit':
      sendJson(response, 429, openaiError('Rate limit reached', 'requests', 'rate_limit_exceeded'), {
        'retry-after': String(book.retryAfterSeconds),
      });
      return;
    case 'unauthorized':
      sendJson(response, 401, openaiError('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
      return;
    case 'context_length':
      sendJson(
        response,
        400,
        openaiError("This model's maximum context length is 128000 tokens.", 'invalid_request_error', 'context_length_exceeded'),
      );
      return;
    case 'hang':
      return; // never answers; the client's abort or the server's close ends it
    case 'reset':
      response.socket?.destroy();
      return;
    case 'malformed_json':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"id": "chatcmpl-broken", "choices": [');
      return;
    case 'empty':
      sendJson(response, 200, {
        id: 'chatcmpl-empty',
        object: 'chat.completion',
        created: 0,
        model,
        choices: [],
        usage: { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 },
      });
      return;
    case 'safety':
      sendJson(response, 200, {
        id: 'chatcmpl-filtered',
        object: 'chat.completion',
        created: 0,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' }],
        usage: { prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 },
      });
      return;
  }
}

/** POST /v1/embeddings: the deterministic fake embedding of each input, at the requested dimensions. */
function answerEmbeddings(book: FaultBook, request: http.IncomingMessage, rawBody: string, response: http.ServerResponse): void {
  const body = JSON.parse(rawBody) as { model: string; input: string | string[]; dimensions?: number };
  const recorded: RecordedRequest = { model: body.model, path: request.url!, headers: request.headers, body };
  book.requests.push(recorded);
  const fault = book.take(body.model, request.headers);
  if (fault) {
    recorded.fault = fault;
    answerFault(fault, book, body.model, response);
    return;
  }
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const tokens = inputs.reduce((total, text) => total + Math.ceil(text.length / 4), 0);
  sendJson(response, 200, {
    object: 'list',
    model: body.model,
    data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text, body.dimensions ?? 1536) })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** Starts the fake on a free loopback port. */
export async function startFakeOpenAI(): Promise<FakeOpenAIServer> {
  const book = new FaultBook();
  const server = await startLoopback((request, rawBody, response) => {
    if (request.method === 'POST' && request.url?.startsWith('/v1/embeddings')) {
      answerEmbeddings(book, request, rawBody, response);
      return;
    }
    if (request.method !== 'POST' || !request.url?.startsWith('/v1/chat/completions')) {
      sendJson(response, 404, openaiError('Unknown route', 'invalid_request_error', null));
      return;
    }
    const body = JSON.parse(rawBody) as Record<string, unknown>;
    const model = String(body.model);
    const recorded: RecordedRequest = { model, path: request.url, headers: request.headers, body };
    book.requests.push(recorded);
    const fault = book.take(model, request.headers);
    if (fault) {
      recorded.fault = fault;
      return answerFault(fault, book, model, response);
    }
    const messages = (body.messages as Array<{ role: string; content: string }>) ?? [];
    const lastUser = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const answer = book.answer(recorded, lastUser);
    const input = answer.usage?.input ?? 20;
    const output = answer.usage?.output ?? 8;
    sendJson(response, 200, {
      id: `chatcmpl-${book.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message: { role: 'assistant', content: answer.text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: input + output,
        prompt_tokens_details: { cached_tokens: answer.usage?.cached ?? 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: answer.usage?.reasoning ?? 0, audio_tokens: 0 },
      },
    });
  });
  return { ...server, baseUrl: `${server.url}/v1`, book };
}
