import { afterEach, describe, expect, it } from 'vitest';
import { OutboundRequestError } from '../../src/net/outbound-error';
import { withScopedFetch } from '../../src/net/scoped-global-fetch';

const answer = (text: string) => (async () => new Response(text)) as typeof fetch;

describe('withScopedFetch', () => {
  let replaced: typeof fetch | undefined;
  afterEach(() => {
    if (replaced) globalThis.fetch = replaced;
    replaced = undefined;
  });

  it('routes the global fetch of the scoped work, and of nothing else running at the same time', async () => {
    const inside = withScopedFetch(answer('guarded'), async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return (await fetch('https://api.example.invalid/')).text();
    });
    const outsideFetch = globalThis.fetch;
    const alsoInside = withScopedFetch(answer('other guard'), async () => (await fetch('https://api.example.invalid/')).text());
    expect(await Promise.all([inside, alsoInside])).toEqual(['guarded', 'other guard']);
    // Outside a scope the wrapper hands the call to the fetch it found at installation.
    expect(globalThis.fetch).toBe(outsideFetch);
    await expect(globalThis.fetch('http://127.0.0.1:1/')).rejects.toThrow(/fetch failed/);
  });

  it('refuses to run when something replaced the global fetch after the guard was installed', async () => {
    await withScopedFetch(answer('installed'), async () => undefined);
    replaced = globalThis.fetch;
    globalThis.fetch = answer('someone else');
    const error = await withScopedFetch(answer('guarded'), async () => 'ran').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OutboundRequestError);
    expect(error).toMatchObject({ code: 'forbidden_url' });
  });
});
