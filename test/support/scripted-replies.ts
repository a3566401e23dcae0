/** ReplyGenerators for tests: they stand in for the model layer (not for our own code under test). */
import type { ReplyGenerator, ReplyOutcome, ReplyRequest } from '../../src/llm/reply-generator';
import { emptyUsage } from '../../src/llm/types';

/** Echoes the customer's last message ("echo: <text>") after an optional delay, and counts calls. */
export function echoReplies(delayMs: (request: ReplyRequest) => number = () => 0): ReplyGenerator & { calls: ReplyRequest[] } {
  const calls: ReplyRequest[] = [];
  return {
    calls,
    async generate(request): Promise<ReplyOutcome> {
      calls.push(request);
      const wait = delayMs(request);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const last = request.messages[request.messages.length - 1]?.content ?? '';
      return {
        text: `echo: ${last}`,
        finishReason: 'stop',
        usage: emptyUsage(),
        provider: 'test',
        model: 'echo',
        latencyMs: wait,
        routing: null,
        learning: null,
        attempts: 1,
      };
    },
  };
}

/** A generator that never answers until released: a worker stuck or killed mid-turn. */
export function stuckReplies(): ReplyGenerator & { release(): void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    release: () => release(),
    async generate(): Promise<ReplyOutcome> {
      await gate;
      throw new Error('released');
    },
  };
}
