/**
 * Tenant-fair access to the database pool. A turn spends most of its life waiting on a model and holds a pooled
 * connection only for its short statements, so one process runs hundreds of turns on ten connections; pg's pool
 * then queues those statements first come, first served, and one tenant's burst of thousands of turns puts every
 * statement of another tenant's single turn behind all of its own (measured: the quiet tenant's p95 time to reply
 * was 7.6x the model's latency). Here the connections are handed out round-robin across the tenants that are
 * waiting: with k tenants waiting, each gets at least one connection in k, whatever the length of the others' queues.
 *
 * The tenant is the async context's (runAsTenant around a turn); work outside any tenant (the webhook's accept
 * path, jobs, the admin API) shares one queue of its own, so the accept path is never starved by turns either.
 * Admission happens before pg's own pool: `slots` equals the pool's size, so a granted connect finds a connection
 * (idle, or a new one) and pg's first-come queue stays empty.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient } from 'pg';

const tenantScope = new AsyncLocalStorage<string>();
/** The queue of work outside any tenant. */
const SHARED_QUEUE = '';

/** Runs `work` (and all it starts) as the tenant's: its database statements wait in the tenant's queue. */
export function runAsTenant<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
  return tenantScope.run(tenantId, work);
}

/**
 * The queue of the inbox's claim rounds (whatsapp/inbox-processor.ts). A round claims work for every tenant, so it
 * waits neither in the queue of the tenant whose finished turn happened to wake it (behind that tenant's backlog)
 * nor in the shared one (behind a flood of webhooks' accepts): either held back another tenant's next turn.
 */
const CLAIM_ROUND_QUEUE = 'claim rounds';

/** Runs `work` (a claim round) with its statements in the claim rounds' own queue. */
export function runAsClaimRound<T>(work: () => T): T {
  return tenantScope.run(CLAIM_ROUND_QUEUE, work);
}

/**
 * The queue of loads whose result every tenant's turns wait for: a shared snapshot's refresh (the circuit breakers').
 * Started by whichever turn finds the snapshot stale, in that turn's tenant queue it waited behind that tenant's
 * backlog, and every other tenant's turns waited with it (measured: up to 1.1 s added to a quiet tenant's replies
 * during another's burst).
 */
const SHARED_LOADS_QUEUE = 'shared loads';

/** Runs `work` (a load every tenant waits for) with its statements in the shared loads' own queue. */
export function runAsSharedLoad<T>(work: () => T): T {
  return tenantScope.run(SHARED_LOADS_QUEUE, work);
}

/** The tenant whose queue the current async context's statements wait in (undefined: the shared queue). */
export function currentTenant(): string | undefined {
  return tenantScope.getStore();
}

/** Runs `work` in the queue of `tenantId`, or in the shared queue when it is undefined. */
export function runInQueueOf<T>(tenantId: string | undefined, work: () => T): T {
  return tenantId === undefined ? tenantScope.exit(work) : tenantScope.run(tenantId, work);
}

interface Waiter {
  grant: () => void;
  timer?: NodeJS.Timeout;
}

/** Grants up to `slots` holders at once; waiters are served round-robin across keys, first come first served per key. */
export class FairAdmission {
  private held = 0;
  /** Waiters per key; a Map keeps insertion order, which is the round-robin order. */
  private readonly waiting = new Map<string, Waiter[]>();

  /** `timeoutMs`: how long a caller may wait before it is refused (pg's connectionTimeoutMillis, kept). */
  constructor(
    readonly slots: number,
    private readonly timeoutMs?: number,
  ) {}

  /** Resolves when the caller holds a slot (it must then call release() exactly once); rejects after the timeout. */
  acquire(key: string): Promise<void> {
    if (this.held < this.slots && this.waiting.size === 0) {
      this.held += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { grant: resolve };
      if (this.timeoutMs) {
        waiter.timer = setTimeout(() => {
          this.remove(key, waiter);
          reject(new Error('timeout exceeded when trying to connect'));
        }, this.timeoutMs);
        waiter.timer.unref();
      }
      const queue = this.waiting.get(key);
      if (queue) queue.push(waiter);
      else this.waiting.set(key, [waiter]);
    });
  }

  release(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.held -= 1;
      return;
    }
    // The slot passes straight to the oldest waiter of the key whose turn it is; that key goes to the back.
    const [key, queue] = next.value;
    const waiter = queue.shift()!;
    this.waiting.delete(key);
    if (queue.length > 0) this.waiting.set(key, queue);
    clearTimeout(waiter.timer);
    waiter.grant();
  }

  /** Callers waiting, for tests and metrics. */
  get waiters(): number {
    let count = 0;
    for (const queue of this.waiting.values()) count += queue.length;
    return count;
  }

  private remove(key: string, waiter: Waiter): void {
    const queue = this.waiting.get(key);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.waiting.delete(key);
  }
}

type ConnectCallback = (error: Error | undefined, client: PoolClient | undefined, release: (error?: Error | boolean) => void) => void;

/**
 * Puts a FairAdmission of the pool's size in front of `pool.connect` (which `pool.query` and TypeORM both use):
 * a connect waits for its tenant's turn, and the slot is given back when the client is released.
 */
export function shareConnectionsFairly(pool: Pool, slots: number, timeoutMs?: number): FairAdmission {
  const admission = new FairAdmission(slots, timeoutMs);
  const connect = pool.connect.bind(pool) as (callback: ConnectCallback) => void;
  const fairConnect = (callback?: ConnectCallback): Promise<PoolClient> | undefined => {
    const settled = new Promise<PoolClient>((resolve, reject) => {
      admission.acquire(tenantScope.getStore() ?? SHARED_QUEUE).then(() => {
        connect((error, client, release) => {
          if (error || !client) {
            admission.release();
            reject(error ?? new Error('the pool gave no client'));
            return;
          }
          let released = false;
          const releaseOnce = (releaseError?: Error | boolean) => {
            // pg throws on a double release itself; the slot must not be given back twice either way.
            if (!released) {
              released = true;
              admission.release();
            }
            release(releaseError);
          };
          client.release = releaseOnce;
          resolve(client);
        });
      }, reject);
    });
    if (!callback) return settled;
    settled.then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, () => {}),
    );
    return undefined;
  };
  (pool as unknown as { connect: typeof fairConnect }).connect = fairConnect;
  return admission;
}
