/**
 * Group commit for small writes that many turns make at about the same moment (a usage row after each model call,
 * a send marked sent after each Twilio call): the writes asked for during one turn of the event loop go to the
 * database as one statement, on the next (setImmediate). Each caller still awaits its own write, so what a caller
 * relied on (the row is committed when its promise resolves) holds. There is no waiting time added: an idle process
 * writes at once, one row per statement; a busy one handles many sockets per turn of the loop, and their writes
 * share a statement (issue 18: every statement costs the process a write system call and PostgreSQL a round of
 * bind and execute; the pg client was a third of the server's CPU per reply under the capacity bench's load).
 *
 * Writes are grouped by the tenant whose connection queue their caller runs in (db/fair-connections.ts), and each
 * group's statement waits in that queue, as the caller's own statement would have: a batch never carries a quiet
 * tenant's write into a busy tenant's backlog, nor a busy tenant's writes past the share the queues give it.
 */
import { currentTenant, runInQueueOf } from './fair-connections';

interface PendingWrite<Item> {
  item: Item;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Rows per statement at most (bounds the statement's parameters and a failed batch's retries). */
const DEFAULT_MAX_BATCH = 500;

export class WriteBatcher<Item> {
  /** Writes waiting for the next turn of the event loop, by the tenant queue of their caller ('' : the shared one). */
  private pending = new Map<string, PendingWrite<Item>[]>();
  private scheduled = false;

  /** `writeMany` writes the items in one statement (all of them or none: it runs as one statement). */
  constructor(
    private readonly writeMany: (items: readonly Item[]) => Promise<void>,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Writes `item` with the others asked for in this turn of the event loop; resolves once it is committed. */
  write(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = currentTenant() ?? '';
      const writes = this.pending.get(queue);
      if (writes) writes.push({ item, resolve, reject });
      else this.pending.set(queue, [{ item, resolve, reject }]);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    for (const [queue, writes] of pending) {
      for (let start = 0; start < writes.length; start += this.maxBatch) {
        const batch = writes.slice(start, start + this.maxBatch);
        void runInQueueOf(queue === '' ? undefined : queue, () => this.writeBatch(batch));
      }
    }
  }

  private async writeBatch(batch: PendingWrite<Item>[]): Promise<void> {
    try {
      await this.writeMany(batch.map((write) => write.item));
      for (const write of batch) write.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad row must not fail the others' writes: each is tried on its own, and only its caller gets the error.
      await Promise.all(batch.map((write) => this.writeBatch([write])));
    }
  }
}
