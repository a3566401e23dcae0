/**
 * How many calls one credential may have in flight, and a pause after the provider said "slow down". Each
 * credential (a tenant's own key, or the platform's key shared by the tenants on it; see provider-credential.ts)
 * has its own gate, so a tenant whose key is rate-limited waits (or fails over to another model) while tenants on
 * other keys are not held up. Waiting is bounded by the caller: a call that cannot start in time is skipped, and
 * the failover engine moves on. In-process: each instance paces its own calls.
 *
 * Waiting calls are served by party (the tenant) in turn, not first come first served: many tenants share the
 * platform's key, and one tenant's burst queued on it must not stand in front of another tenant's single call.
 */

export interface ProviderGateOptions {
  /** Calls in flight per credential at most. */
  maxConcurrent: number;
  /** Pause after a 429 that carries no Retry-After. */
  defaultPauseMs: number;
  /** Longest pause honoured (a Retry-After of an hour is treated as this). */
  maxPauseMs: number;
  now: () => number;
}

export const DEFAULT_PROVIDER_GATE_OPTIONS: ProviderGateOptions = {
  maxConcurrent: 512, // PROVIDER_MAX_CONCURRENCY's default (config.ts), which the server passes
  defaultPauseMs: 1_000,
  maxPauseMs: 60_000,
  now: Date.now,
};

interface Waiter {
  resolve: (release: (() => void) | null) => void;
  timer: NodeJS.Timeout;
}

interface CredentialState {
  inFlight: number;
  pausedUntil: number;
  /** Waiters per party, in the order the parties are served next (a Map keeps insertion order). */
  waiting: Map<string, Waiter[]>;
  waitingCount: number;
  resumeTimer: NodeJS.Timeout | null;
}

/** Per-credential concurrency limits and rate-limit pauses. */
export class ProviderGate {
  readonly options: ProviderGateOptions;
  private readonly credentials = new Map<string, CredentialState>();

  constructor(options: Partial<ProviderGateOptions> = {}) {
    this.options = { ...DEFAULT_PROVIDER_GATE_OPTIONS, ...options };
  }

  /**
   * A slot for one call with this credential: resolves with the function that gives it back, or with null when no
   * slot came free (or the pause did not end) within `maxWaitMs`. `party` (the tenant) decides whose waiting call
   * starts next: parties take turns.
   */
  acquire(credential: string, maxWaitMs: number, party = ''): Promise<(() => void) | null> {
    const state = this.stateOf(credential);
    if (state.waitingCount === 0 && this.canStart(state)) return Promise.resolve(this.take(credential, state));
    if (maxWaitMs <= 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.removeWaiter(state, party, waiter);
          resolve(null);
          this.forgetIfIdle(credential, state);
        }, maxWaitMs),
      };
      waiter.timer.unref?.();
      const queue = state.waiting.get(party);
      if (queue) queue.push(waiter);
      else state.waiting.set(party, [waiter]);
      state.waitingCount += 1;
      this.scheduleResume(credential, state);
    });
  }

  /** The provider answered 429: no new call with this credential for `retryAfterMs` (or the default pause). */
  pause(credential: string, retryAfterMs: number | undefined): void {
    const state = this.stateOf(credential);
    const pauseMs = Math.min(this.options.maxPauseMs, Math.max(0, retryAfterMs ?? this.options.defaultPauseMs));
    state.pausedUntil = Math.max(state.pausedUntil, this.options.now() + pauseMs);
    this.scheduleResume(credential, state);
  }

  /** Calls in flight and waiting, per credential (metrics, tests). */
  snapshot(credential: string): { inFlight: number; waiting: number; pausedForMs: number } {
    const state = this.credentials.get(credential);
    if (!state) return { inFlight: 0, waiting: 0, pausedForMs: 0 };
    return { inFlight: state.inFlight, waiting: state.waitingCount, pausedForMs: Math.max(0, state.pausedUntil - this.options.now()) };
  }

  private stateOf(credential: string): CredentialState {
    let state = this.credentials.get(credential);
    if (!state) {
      state = { inFlight: 0, pausedUntil: 0, waiting: new Map(), waitingCount: 0, resumeTimer: null };
      this.credentials.set(credential, state);
    }
    return state;
  }

  private canStart(state: CredentialState): boolean {
    return state.inFlight < this.options.maxConcurrent && state.pausedUntil <= this.options.now();
  }

  private take(credential: string, state: CredentialState): () => void {
    state.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.inFlight -= 1;
      this.admit(credential, state);
    };
  }

  /** Starts waiters while slots are free and no pause holds them: the next party's oldest call, party after party. */
  private admit(credential: string, state: CredentialState): void {
    while (state.waitingCount > 0 && this.canStart(state)) {
      const [party, queue] = state.waiting.entries().next().value!;
      const waiter = queue.shift()!;
      state.waitingCount -= 1;
      // The party goes to the back of the line (or leaves it when it has no more calls waiting).
      state.waiting.delete(party);
      if (queue.length > 0) state.waiting.set(party, queue);
      clearTimeout(waiter.timer);
      waiter.resolve(this.take(credential, state));
    }
    if (state.waitingCount > 0) this.scheduleResume(credential, state);
    else this.forgetIfIdle(credential, state);
  }

  private removeWaiter(state: CredentialState, party: string, waiter: Waiter): void {
    const queue = state.waiting.get(party);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    state.waitingCount -= 1;
    if (queue.length === 0) state.waiting.delete(party);
  }

  /** Wakes the waiters when a pause ends (a freed slot wakes them by itself). */
  private scheduleResume(credential: string, state: CredentialState): void {
    const pausedFor = state.pausedUntil - this.options.now();
    if (pausedFor <= 0 || state.waitingCount === 0) return;
    if (state.resumeTimer) clearTimeout(state.resumeTimer);
    state.resumeTimer = setTimeout(() => {
      state.resumeTimer = null;
      this.admit(credential, state);
    }, pausedFor);
    state.resumeTimer.unref?.();
  }

  /** Credentials with nothing in flight, waiting or paused take no memory (the map stays as large as the work). */
  private forgetIfIdle(credential: string, state: CredentialState): void {
    if (state.inFlight === 0 && state.waitingCount === 0 && state.pausedUntil <= this.options.now() && !state.resumeTimer) {
      this.credentials.delete(credential);
    }
  }
}
