/**
 * A clock per reply for the failover engine, so its deadline decisions can be checked exactly while many replies
 * run at once. Each reply gets its own timeline (AsyncLocalStorage keeps concurrent replies apart) starting at 0.
 * The engine's backoff and Retry-After waits advance it at once instead of waiting; a provider call advances it
 * by the real time the call took (a hanging provider: until the engine's timeout aborts it). Every call and wait
 * is written down with the moment it began, on the clock the engine itself decided by.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ReplyGenerator } from '../../src/llm/reply-generator';
import type { LanguageModelProvider } from '../../src/llm/types';

export interface ReplyTimeline {
  /** Milliseconds since the reply began, on this reply's clock. */
  elapsed: number;
  /** Every provider call, with the moment it began. */
  calls: Array<{ model: string; startedAt: number }>;
  /** Every wait between attempts, with the moment it began. */
  waits: Array<{ startedAt: number; milliseconds: number }>;
}

/** The timelines of every reply made through `replies()`. */
export class ReplyTimelines {
  readonly all: ReplyTimeline[] = [];
  private readonly storage = new AsyncLocalStorage<ReplyTimeline>();

  /** The engine's clock: the current reply's elapsed time. */
  readonly now = (): number => this.current().elapsed;

  /** The engine's wait: advances the current reply's clock by `milliseconds` without waiting for them. */
  readonly sleep = async (milliseconds: number): Promise<void> => {
    const timeline = this.current();
    timeline.waits.push({ startedAt: timeline.elapsed, milliseconds });
    timeline.elapsed += milliseconds;
    await nextTurn();
  };

  /** Runs each reply of `generator` on a new timeline. */
  replies(generator: ReplyGenerator): ReplyGenerator {
    return {
      generate: (request) => {
        const timeline: ReplyTimeline = { elapsed: 0, calls: [], waits: [] };
        this.all.push(timeline);
        return this.storage.run(timeline, () => generator.generate(request));
      },
    };
  }

  /** Records each call of `provider` on the current reply's timeline and advances it by the call's real duration. */
  provider(provider: LanguageModelProvider): LanguageModelProvider {
    return {
      id: provider.id,
      generate: async (request) => {
        const timeline = this.current();
        timeline.calls.push({ model: `${provider.id}/${request.model}`, startedAt: timeline.elapsed });
        const started = performance.now();
        let charged = false;
        // On a timeout the engine aborts and moves on before the call settles: the abort is when the call ended.
        const charge = () => {
          if (charged) return;
          charged = true;
          timeline.elapsed += performance.now() - started;
        };
        request.signal?.addEventListener('abort', charge, { once: true });
        try {
          return await provider.generate(request);
        } finally {
          charge();
        }
      },
    };
  }

  private current(): ReplyTimeline {
    const timeline = this.storage.getStore();
    if (!timeline) throw new Error('ReplyTimelines: the clock was read outside a reply');
    return timeline;
  }
}
