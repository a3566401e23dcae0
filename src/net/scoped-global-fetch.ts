/**
 * For SDKs that call the global `fetch` and take no fetch of their own (@google/generative-ai 0.24): the global
 * fetch is replaced, once, by a wrapper that asks an AsyncLocalStorage which fetch the current async context wants.
 * Inside withScopedFetch(guarded, work) every global fetch made by `work` (and what it awaits) goes through
 * `guarded`; everywhere else the original fetch runs untouched, so the platform's own calls are unaffected.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { OutboundRequestError } from './outbound-error';

type Fetch = typeof globalThis.fetch;

const scope = new AsyncLocalStorage<Fetch>();
let wrapper: Fetch | undefined;

function install(): Fetch {
  if (wrapper) return wrapper;
  const platformFetch = globalThis.fetch;
  wrapper = ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => (scope.getStore() ?? platformFetch)(input, init)) as Fetch;
  globalThis.fetch = wrapper;
  return wrapper;
}

/**
 * Runs `work` with the global fetch routed to `fetch` for every call made inside it. Refuses (fails closed) when
 * something replaced the global fetch after the wrapper was installed, since the guard could then be bypassed.
 */
export function withScopedFetch<T>(fetch: Fetch, work: () => Promise<T>): Promise<T> {
  const installed = install();
  if (globalThis.fetch !== installed) {
    return Promise.reject(
      new OutboundRequestError(
        'forbidden_url',
        'the global fetch was replaced after the outbound guard was installed; refusing a tenant-configured URL',
      ),
    );
  }
  return scope.run(fetch, work);
}
