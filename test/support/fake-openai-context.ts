/**
 * Suites whose replies come from the fake OpenAI server through the platform's key: the fake and a test context
 * pointed at it live for the whole file; before each test the database is emptied and the fake forgets its requests,
 * faults and scripted answers.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { createTestContext, type TestContext } from './test-context';

export interface FakeOpenAISuite {
  context: TestContext;
  openai: FakeOpenAIServer;
}

/** Registers the hooks; the returned object's fields are set from beforeAll on. */
export function useFakeOpenAIContext(): FakeOpenAISuite {
  const suite = {} as FakeOpenAISuite;
  beforeAll(async () => {
    suite.openai = await startFakeOpenAI();
    suite.context = await createTestContext({ environment: { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: suite.openai.baseUrl } });
  });
  afterAll(async () => {
    await suite.context?.close();
    await suite.openai?.close();
  });
  beforeEach(async () => {
    await suite.context.database.truncateAll();
    suite.openai.book.reset();
  });
  return suite;
}
