/**
 * Runs the document indexer in the background of a process (the web process in embedded mode, the worker with a
 * shared PostgreSQL): it indexes while documents wait, then polls. The API wakes it when it queues a document, so
 * an upload is picked up at once rather than at the next poll.
 */
import type { Logger } from 'pino';
import type { DocumentIndexer } from './document-indexer';

export class KnowledgeIndexingWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;

  constructor(
    private readonly indexer: DocumentIndexer,
    private readonly logger: Logger,
    private readonly pollIntervalMs = 5_000,
  ) {}

  /** Starts polling. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake();
  }

  /** Asks for a pass now (a document was just queued); no-op while stopped. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      // A pass in progress may already have looked for work: run another one after it.
      this.wakeRequested = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        this.wake();
        return;
      }
      this.timer = setTimeout(() => this.wake(), this.pollIntervalMs);
      this.timer.unref();
    });
  }

  private async pass(): Promise<void> {
    try {
      while (!this.stopped && (await this.indexer.indexNext())) {
        // Each document is committed on its own; the loop only continues while there is more to do.
      }
    } catch (error) {
      // A database error (not a document's): logged, and the next poll tries again.
      this.logger.error({ err: error }, 'knowledge indexing pass failed');
    }
  }

  /** Stops polling and waits for the document in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
