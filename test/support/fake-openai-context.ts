/**
 * Suites whose replies come from the fake OpenAI server (and, with useFakeProvidersContext, the fake Gemini server)
 * through the platform's keys: the fakes and a test context pointed at them live for the whole file; before each
 * test the database is emptied and the fakes forget their requests, faults and scripted answers.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeGeminiServer, startFakeGemini } from '../fakes/gemini-server';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { createTestContext, type TestContext } from './test-context';

export interface FakeOpenAISuite {
  context: TestContext;
  openai: FakeOpenAIServer;
}

export interface FakeProvidersSuite extends FakeOpenAISuite {
  gemini: FakeGeminiServer;
}

/** Registers the hooks; the returned object's fields are set from beforeAll on. */
export function useFakeOpenAIContext(): FakeOpenAISuite {
  return registerSuite(false);
}

/** The same with the fake Gemini server too (GEMINI_API_KEY and GEMINI_BASE_URL set). */
export function useFakeProvidersContext(): FakeProvidersSuite {
  return registerSuite(true) as FakeProvidersSuite;
}

function registerSuite(withGemini: boolean): FakeOpenAISuite & { gemini?: FakeGeminiServer } {
  const suite = {} as FakeOpenAISuite & { gemini?: FakeGeminiServer };
  beforeAll(async () => {
    [suite.openai, suite.gemini] = await Promise.all([startFakeOpenAI(), withGemini ? startFakeGemini() : undefined]);
    suite.context = await createTestContext({
      environment: {
        OPENAI_API_KEY: 'sk-env',
        OPENAI_BASE_URL: suite.openai.baseUrl,
        ...(suite.gemini ? { GEMINI_API_KEY: 'g-env', GEMINI_BASE_URL: suite.gemini.baseUrl } : {}),
      },
    });
  });
  afterAll(async () => {
    await suite.context?.close();
    await Promise.all([suite.openai?.close(), suite.gemini?.close()]);
  });
  beforeEach(async () => {
    await suite.context.database.truncateAll();
    suite.openai.book.reset();
    suite.gemini?.book.reset();
  });
  return suite;
}
