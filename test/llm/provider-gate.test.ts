import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProviderGate } from '../../src/llm/provider-gate';

describe('the provider gate (per-credential concurrency and rate-limit pauses)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const gate = (maxConcurrent = 2) => new ProviderGate({ maxConcurrent, now: () => Date.now() });

  it('lets at most maxConcurrent calls of one credential in flight; the next starts when one ends', async () => {
    const limited = gate(2);
    const first = await limited.acquire('key-a', 1_000);
    const second = await limited.acquire('key-a', 1_000);
    let third: (() => void) | null | undefined;
    void limited.acquire('key-a', 1_000).then((release) => {
      third = release;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeUndefined();
    expect(limited.snapshot('key-a')).toMatchObject({ inFlight: 2, waiting: 1 });
    first!();
    await vi.advanceTimersByTimeAsync(0);
    expect(third).toBeTypeOf('function');
    second!();
    third!();
    expect(limited.snapshot('key-a')).toEqual({ inFlight: 0, waiting: 0, pausedForMs: 0 });
  });

  it('pauses only the rate-limited credential for its Retry-After; the others go on', async () => {
    const limited = gate(10);
    limited.pause('key-a', 1_500);
    const other = await limited.acquire('key-b', 0);
    expect(other).toBeTypeOf('function');
    let resumed: (() => void) | null | undefined;
    void limited.acquire('key-a', 5_000).then((release) => {
      resumed = release;
    });
    await vi.advanceTimersByTimeAsync(1_499);
    expect(resumed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(resumed).toBeTypeOf('function');
  });

  it('gives up on a wait longer than the caller allows, so the caller can move on', async () => {
    const limited = gate(10);
    limited.pause('key-a', 10_000);
    let outcome: (() => void) | null | undefined;
    void limited.acquire('key-a', 2_000).then((release) => {
      outcome = release;
    });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(outcome).toBeNull();
    expect(await limited.acquire('key-a', 0)).toBeNull();
  });

  it('caps a huge Retry-After and admits waiters in order once the pause ends', async () => {
    const limited = new ProviderGate({ maxConcurrent: 1, maxPauseMs: 60_000, now: () => Date.now() });
    limited.pause('key-a', 3_600_000);
    expect(limited.snapshot('key-a').pausedForMs).toBe(60_000);
    const order: string[] = [];
    for (const name of ['first', 'second']) {
      void limited.acquire('key-a', 120_000).then((release) => {
        order.push(name);
        release?.();
      });
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(order).toEqual(['first', 'second']);
  });

  it("serves waiting tenants in turn: one tenant's queued burst does not stand in front of another's single call", async () => {
    const limited = gate(1);
    const holder = await limited.acquire('platform-key', 0, 'bursty');
    const started: string[] = [];
    const queue = (party: string, name: string) =>
      void limited.acquire('platform-key', 60_000, party).then((release) => {
        started.push(name);
        release?.();
      });
    for (let index = 1; index <= 5; index += 1) queue('bursty', `bursty ${index}`);
    queue('quiet', 'quiet 1');
    await vi.advanceTimersByTimeAsync(0);
    expect(limited.snapshot('platform-key')).toMatchObject({ inFlight: 1, waiting: 6 });
    holder!();
    await vi.advanceTimersByTimeAsync(0);
    // Five of the bursty tenant's calls were waiting first; the quiet tenant's one still starts second.
    expect(started).toEqual(['bursty 1', 'quiet 1', 'bursty 2', 'bursty 3', 'bursty 4', 'bursty 5']);
  });

  it("a waiter that gives up leaves its tenant's other waiters in line", async () => {
    const limited = gate(1);
    const holder = await limited.acquire('key-a', 0, 'shop');
    const outcomes: Array<string | null> = [];
    void limited.acquire('key-a', 1_000, 'shop').then((release) => outcomes.push(release ? 'short' : null));
    void limited.acquire('key-a', 10_000, 'shop').then((release) => {
      outcomes.push(release ? 'long' : null);
      release?.();
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes).toEqual([null]);
    expect(limited.snapshot('key-a')).toMatchObject({ waiting: 1 });
    holder!();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual([null, 'long']);
  });

  it('keeps no state for a credential with nothing in flight, waiting or paused', async () => {
    const limited = gate(2);
    (await limited.acquire('key-a', 0))!();
    expect(limited.snapshot('key-a')).toEqual({ inFlight: 0, waiting: 0, pausedForMs: 0 });
    expect((limited as unknown as { credentials: Map<string, unknown> }).credentials.size).toBe(0);
  });
});
