/** Speech to text through each adapter, against the fakes speaking OpenAI's multipart endpoint and Gemini's inline audio. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiChatProvider } from '../../../src/llm/providers/gemini/gemini-chat-model';
import { OpenAIChatProvider } from '../../../src/llm/providers/openai/openai-chat-model';
import { UpstreamError } from '../../../src/llm/types';
import { type FakeGeminiServer, startFakeGemini } from '../../fakes/gemini-server';
import { type FakeOpenAIServer, startFakeOpenAI } from '../../fakes/openai-server';
import { voiceNote } from '../../support/media-fixtures';

let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;

beforeAll(async () => {
  [openai, gemini] = await Promise.all([startFakeOpenAI(), startFakeGemini()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), gemini.close()]);
});
beforeEach(() => {
  openai.book.reset();
  gemini.book.reset();
});

describe('OpenAIChatProvider.transcribe', () => {
  const provider = () => new OpenAIChatProvider({ apiKey: 'sk-test', baseUrl: openai.baseUrl });

  it('posts the clip as a multipart file named for its format and returns the text with token usage', async () => {
    const result = await provider().transcribe({
      model: 'gpt-4o-mini-transcribe',
      audio: voiceNote('hello there'),
      mediaType: 'audio/ogg',
    });
    expect(result).toMatchObject({ text: 'hello there', usage: { inputTokens: 80, outputTokens: 12 } });
    expect(openai.book.requests[0].body).toMatchObject({
      model: 'gpt-4o-mini-transcribe',
      filename: 'voice-note.ogg',
      fileContentType: 'audio/ogg',
    });
  });

  it("returns whisper-1's reported length", async () => {
    const result = await provider().transcribe({ model: 'whisper-1', audio: voiceNote('hi'), mediaType: 'audio/mpeg' });
    expect(result.audioSeconds).toBe(5);
    expect(openai.book.requests[0].body).toMatchObject({ filename: 'voice-note.mp3' });
  });

  it('throws the typed, retryable UpstreamError on a 503', async () => {
    openai.book.fail('unavailable');
    const error = await provider()
      .transcribe({ model: 'gpt-4o-mini-transcribe', audio: voiceNote('x'), mediaType: 'audio/ogg' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: 'server', status: 503, isRetryable: true });
  });
});

describe('GeminiChatProvider.transcribe', () => {
  it('sends the clip as inline data with the instruction and returns the text with token usage', async () => {
    const provider = new GeminiChatProvider({ apiKey: 'g-test', baseUrl: gemini.baseUrl });
    const audio = voiceNote('olá, tudo bem?');
    const result = await provider.transcribe({ model: 'gemini-2.0-flash', audio, mediaType: 'audio/ogg' });
    expect(result).toMatchObject({ text: 'olá, tudo bem?', usage: { inputTokens: 160, outputTokens: 12 } });
    const parts = (gemini.book.requests[0].body.contents as Array<{ parts: Array<Record<string, unknown>> }>)[0].parts;
    expect(parts[0]).toEqual({ inlineData: { mimeType: 'audio/ogg', data: audio.toString('base64') } });
    expect(parts[1]).toMatchObject({ text: expect.stringContaining('Transcribe') });
  });
});
