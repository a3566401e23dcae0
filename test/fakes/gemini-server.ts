/**
 * A loopback server speaking Gemini's generateContent and batchEmbedContents wire formats, with an injectable fault
 * matrix. With requestOptions.baseUrl the SDK posts to {baseUrl}/v1beta/models/{model}:generateContent.
 */
import type http from 'node:http';
import { fakeEmbedding } from './fake-embedding';
import { FaultBook, type LlmFault, type LoopbackServer, type RecordedRequest, sendJson, spokenText, startLoopback } from './llm-faults';

export interface FakeGeminiServer extends LoopbackServer {
  /** Pass as requestOptions.baseUrl (GEMINI_BASE_URL). */
  baseUrl: string;
  book: FaultBook;
}

const ROUTE = /^\/v1beta\/models\/([^/:]+):generateContent$/;
const EMBED_ROUTE = /^\/v1beta\/models\/([^/:]+):batchEmbedContents$/;

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
];

function googleError(status: number, code: string, message: string, details?: unknown[]) {
  return { error: { code: status, message, status: code, ...(details ? { details } : {}) } };
}

function answerFault(fault: LlmFault, book: FaultBook, response: http.ServerResponse): void {
  switch (fault) {
    case 'server_error':
      sendJson(response, 500, googleError(500, 'INTERNAL', 'An internal error has occurred.'));
      return;
    case 'unavailable':
      sendJson(response, 503, googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'));
      return;
    case 'rate_limit':
      sendJson(
        response,
        429,
        googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${book.retryAfterSeconds}s` },
        ]),
        { 'retry-after': String(book.retryAfterSeconds) },
      );
      return;
    case 'unauthorized':
      sendJson(
        response,
        400,
        googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
        ]),
      );
      return;
    case 'context_length':
      sendJson(
        response,
        400,
        googleError(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
      );
      return;
    case 'hang':
      return;
    case 'reset':
      response.socket?.destroy();
      return;
    case 'malformed_json':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"candidates": [{"content": ');
      return;
    case 'empty':
      sendJson(response, 200, { candidates: [], usageMetadata: { promptTokenCount: 10, totalTokenCount: 10 } });
      return;
    case 'safety':
      sendJson(response, 200, {
        candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: SAFETY_RATINGS }],
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 0, totalTokenCount: 12 },
      });
      return;
  }
}

/** POST models/{model}:batchEmbedContents: the deterministic fake embedding of each request's text. */
function answerEmbeddings(book: FaultBook, model: string, request: http.IncomingMessage, rawBody: string, response: http.ServerResponse) {
  const body = JSON.parse(rawBody) as {
    requests: Array<{ content: { parts: Array<{ text?: string }> }; outputDimensionality?: number }>;
  };
  const recorded: RecordedRequest = { model, path: request.url!, headers: request.headers, body };
  book.requests.push(recorded);
  const fault = book.take(model, request.headers);
  if (fault) {
    recorded.fault = fault;
    answerFault(fault, book, response);
    return;
  }
  sendJson(response, 200, {
    embeddings: body.requests.map((item) => ({
      values: fakeEmbedding(item.content.parts.map((part) => part.text ?? '').join(' '), item.outputDimensionality ?? 3072),
    })),
  });
}

/** Starts the fake on a free loopback port. */
export async function startFakeGemini(): Promise<FakeGeminiServer> {
  const book = new FaultBook();
  const server = await startLoopback((request, rawBody, response) => {
    const embedMatch = EMBED_ROUTE.exec(request.url ?? '');
    if (request.method === 'POST' && embedMatch) {
      answerEmbeddings(book, embedMatch[1], request, rawBody, response);
      return;
    }
    const match = ROUTE.exec(request.url ?? '');
    if (request.method !== 'POST' || !match) sendJson(response, 404, googleError(404, 'NOT_FOUND', 'Unknown route'));
    if (request.method !== 'POST' || !match) return;
    const body = JSON.parse(rawBody) as Record<string, unknown>;
    const model = match[1];
    const recorded: RecordedRequest = { model, path: request.url!, headers: request.headers, body };
    book.requests.push(recorded);
    const fault = book.take(model, request.headers);
    if (fault) {
      recorded.fault = fault;
      return answerFault(fault, book, response);
    }
    const contents =
      (body.contents as Array<{ role: string; parts: Array<{ text?: string; inlineData?: { mimeType: string; data: string } }> }>) ?? [];
    const lastUser = [...contents].reverse().find((content) => content.role === 'user');
    // A voice note as inline data: the fake "hears" its SPOKEN: text and answers with the transcript.
    const audio = lastUser?.parts.find((part) => part.inlineData?.mimeType.startsWith('audio/'))?.inlineData;
    const answer = audio
      ? { text: spokenText(Buffer.from(audio.data, 'base64')), usage: { input: 160, output: 12 } }
      : book.answer(recorded, lastUser?.parts.map((part) => part.text ?? '').join('\n') ?? '');
    const input = answer.usage?.input ?? 20;
    const output = answer.usage?.output ?? 8;
    const reasoning = answer.usage?.reasoning ?? 0;
    sendJson(response, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text: answer.text }] }, finishReason: 'STOP', index: 0, safetyRatings: [] }],
      usageMetadata: {
        promptTokenCount: input,
        candidatesTokenCount: output,
        totalTokenCount: input + output + reasoning,
        ...(answer.usage?.cached ? { cachedContentTokenCount: answer.usage.cached } : {}),
        ...(reasoning ? { thoughtsTokenCount: reasoning } : {}),
      },
      modelVersion: model,
    });
  });
  return { ...server, baseUrl: server.url, book };
}
