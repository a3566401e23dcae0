/**
 * Runs one open-loop load in a worker thread, so the generator has a heap of its own: the benchmark process holds
 * hundreds of thousands of accepted SIDs and autocannon's histograms, and its garbage collections would otherwise
 * stall the generator and be charged to the server as latency.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runOpenLoop, type OpenLoopResult, type PreparedRequest } from './open-loop';

interface OpenLoopJob {
  origin: string;
  requests: PreparedRequest[];
  rate: number;
  connections: number;
}

/** runOpenLoop in a fresh worker thread. */
export function runOpenLoopInWorker(job: OpenLoopJob): Promise<OpenLoopResult> {
  return new Promise((resolve, reject) => {
    // Workers do not inherit tsx's loader: register it (CommonJS hook) before loading this TypeScript file.
    const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, { eval: true, workerData: job });
    worker.once('message', (result: OpenLoopResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`open-loop worker exited with ${code}`));
    });
  });
}

if (!isMainThread && parentPort) {
  const job = workerData as OpenLoopJob;
  void runOpenLoop(job.origin, job.requests, job.rate, job.connections).then((result) => parentPort!.postMessage(result));
}
