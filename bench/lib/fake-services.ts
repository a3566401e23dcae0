/**
 * The slow model and the fake Twilio for load benchmarks, run in a child process (fake-services-process.ts), so a
 * busy load generator cannot delay their answers: what the benchmark measures is then Parley's time alone.
 */
import { fork } from 'node:child_process';

export interface FakeServicesReport {
  /** When each model request arrived (ms since the epoch). */
  modelRequestTimes: number[];
  /** The most model requests held open at the same time. */
  modelPeakConcurrent: number;
}

/** A reply the fake Twilio accepted: to whom and when (ms since the epoch, the machine's clock). */
export interface DeliveredReply {
  to: string;
  receivedAt: number;
}

export type ParentMessage = { type: 'account'; accountSid: string; authToken: string } | { type: 'report' };

type ChildMessage =
  | { type: 'ready'; twilioUrl: string; modelBaseUrl: string }
  | { type: 'replies'; replies: DeliveredReply[] }
  | { type: 'account-added'; accountSid: string }
  | { type: 'report'; report: FakeServicesReport };

export interface FakeServices {
  /** For TWILIO_API_BASE_URL. */
  twilioUrl: string;
  /** For OPENAI_BASE_URL (ends in /v1). */
  modelBaseUrl: string;
  /** Replies delivered so far, in order; it lags the fake by at most 50 ms. */
  replies: DeliveredReply[];
  /** Lets the fake Twilio accept this account's credentials. */
  addAccount(accountSid: string, authToken: string): Promise<void>;
  report(): Promise<FakeServicesReport>;
  close(): Promise<void>;
}

/** Starts the child process; the model answers each request `modelDelayMs` after it arrived. */
export async function startFakeServices(modelDelayMs: number): Promise<FakeServices> {
  const child = fork(require.resolve('./fake-services-process.ts'), [String(modelDelayMs)], { execArgv: ['--import', 'tsx'] });
  const replies: DeliveredReply[] = [];
  const waiting = new Set<(message: ChildMessage) => boolean>();
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'replies') replies.push(...message.replies);
    for (const waiter of waiting) if (waiter(message)) waiting.delete(waiter);
  });
  /** Resolves with the first message `accept` takes; rejects if the child dies first. */
  const next = <T>(accept: (message: ChildMessage) => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the fake services exited (code ${code})`));
      child.once('exit', onExit);
      waiting.add((message) => {
        const value = accept(message);
        if (value === undefined) return false;
        child.off('exit', onExit);
        resolve(value);
        return true;
      });
    });
  const ready = await next((message) => (message.type === 'ready' ? message : undefined));
  const send = (message: ParentMessage) => child.send(message);
  return {
    twilioUrl: ready.twilioUrl,
    modelBaseUrl: ready.modelBaseUrl,
    replies,
    async addAccount(accountSid, authToken) {
      const added = next((message) => (message.type === 'account-added' && message.accountSid === accountSid ? true : undefined));
      send({ type: 'account', accountSid, authToken });
      await added;
    },
    async report() {
      const report = next((message) => (message.type === 'report' ? message.report : undefined));
      send({ type: 'report' });
      return report;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
