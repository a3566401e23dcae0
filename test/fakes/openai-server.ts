/** A loopback server speaking OpenAI's chat completions, embeddings and transcription wire formats, with an injectable fault matrix. */
import { fakeEmbedding } from './fake-embedding';
import type http from 'node:http';
import { FaultBook, type LlmFault, type LoopbackServer, type RecordedRequest, sendJson, spokenText, startLoopback } from './llm-faults';

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

/** The parts of a multipart/form-data body: each name with its bytes, and a file's name and content type. */
export function parseMultipart(
  raw: Buffer,
  contentType: string | undefined,
): Map<string, { data: Buffer; filename?: string; contentType?: string }> {
  const parts = new Map<string, { data: Buffer; filename?: string; contentType?: string }>();
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? '');
  if (!boundary) return parts;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let position = raw.indexOf(delimiter);
  while (position >= 0) {
    const start = position + delimiter.length + 2; // past the CRLF
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    const part = raw.subarray(start, next - 2); // before the CRLF that precedes the delimiter
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (name !== undefined) {
      parts.set(name, {
        data: part.subarray(headerEnd + 4),
        filename: /filename="([^"]*)"/.exec(headers)?.[1],
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1],
      });
    }
    position = next;
  }
  return parts;
}

/** POST /v1/audio/transcriptions: "hears" the voice note's SPOKEN: text; usage in tokens, or in seconds for whisper-1. */
function answerTranscription(book: FaultBook, request: http.IncomingMessage, raw: Buffer, response: http.ServerResponse): void {
  const parts = parseMultipart(raw, request.headers['content-type']);
  const model = parts.get('model')?.data.toString('utf8') ?? '';
  const file = parts.get('file');
  const recorded: RecordedRequest = {
    model,
    path: request.url ?? '',
    headers: request.headers,
    body: { model, filename: file?.filename, fileContentType: file?.contentType, fileBytes: file?.data.length ?? 0 },
  };
  book.requests.push(recorded);
  const fault = book.take(model, request.headers);
  if (fault) {
    recorded.fault = fault;
    answerFault(fault, book, model, response);
    return;
  }
  if (!file) {
    sendJson(response, 400, openaiError('file is required', 'invalid_request_error', null));
    return;
  }
  const text = spokenText(file.data);
  if (model === 'whisper-1') {
    sendJson(response, 200, { text, usage: { type: 'duration', seconds: 5 } });
    return;
  }
  sendJson(response, 200, {
    text,
    usage: {
      type: 'tokens',
      input_tokens: 80,
      output_tokens: 12,
      total_tokens: 92,
      input_token_details: { audio_tokens: 80, text_tokens: 0 },
    },
  });
}

/** The text of a chat message: a string, or the text parts of a content array (a photo's caption). */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is { type: 'text'; text: string } => part?.type === 'text')
    .map((part) => part.text)
    .join('\n');
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
  const server = await startLoopback((request, rawBody, response, raw) => {
    if (request.method === 'POST' && request.url?.startsWith('/v1/embeddings')) {
      answerEmbeddings(book, request, rawBody, response);
      return;
    }
    if (request.method === 'POST' && request.url?.startsWith('/v1/audio/transcriptions')) {
      answerTranscription(book, request, raw, response);
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
    const messages = (body.messages as Array<{ role: string; content: unknown }>) ?? [];
    const lastUser = messageText([...messages].reverse().find((message) => message.role === 'user')?.content);
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
