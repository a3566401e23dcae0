/**
 * The child process behind `startFakeServices`: the slow model and the fake Twilio REST API on loopback, in an event
 * loop of their own. In the benchmark's process they shared the loop that generates thousands of webhooks, so their
 * timers fired late and a 1.5 s model answered in up to 2 s during a flood: time charged to Parley that was not its.
 */
import { startFakeTwilio } from '../../test/fakes/twilio-server';
import type { FakeServicesReport, ParentMessage } from './fake-services';
import { startSlowModel } from './slow-model';

/** How often the replies received are sent to the parent (it polls for the last one at this grain anyway). */
const FLUSH_MS = 50;

async function main(): Promise<void> {
  const delayMs = Number(process.argv[2]);
  const [twilio, model] = await Promise.all([startFakeTwilio(), startSlowModel(delayMs)]);
  let flushed = 0;
  const flush = setInterval(() => {
    if (flushed === twilio.messages.length) return;
    const fresh = twilio.messages.slice(flushed).map((message) => ({ to: message.params.To, receivedAt: message.receivedAt }));
    flushed += fresh.length;
    process.send!({ type: 'replies', replies: fresh });
  }, FLUSH_MS);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'account') {
      twilio.accounts.set(message.accountSid, message.authToken);
      process.send!({ type: 'account-added', accountSid: message.accountSid });
    } else if (message.type === 'report') {
      const report: FakeServicesReport = { modelRequestTimes: model.requestTimes, modelPeakConcurrent: model.peakConcurrent };
      process.send!({ type: 'report', report });
    }
  });
  // The parent's exit closes the IPC channel: nothing here outlives the benchmark.
  process.on('disconnect', () => {
    clearInterval(flush);
    void Promise.all([twilio.close(), model.close()]).finally(() => process.exit(0));
  });
  process.send!({ type: 'ready', twilioUrl: twilio.url, modelBaseUrl: model.baseUrl });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
