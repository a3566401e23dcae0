/**
 * One provider call under a timeout that holds even if the adapter ignores its abort signal: the signal is aborted
 * and the call is raced against the timer, so a deaf adapter cannot hold a reply, a transcript or an embedding.
 * Used by the failover engine, the media models and the embeddings.
 */
export async function withAttemptTimeout<T>(
  run: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  /** The error the call fails with when the time is up (an UpstreamError of kind 'timeout'). */
  timeoutError: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(timeoutError());
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
