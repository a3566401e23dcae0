/**
 * Group commit for small writes that many turns make at about the same moment (a usage row after each model call,
 * a send marked sent after each Twilio call): the writes asked for during one turn of the event loop go to the
 * database as one statement, on the next (setImmediate). Each caller still awaits its own write, so what a caller
 * relied on (the row is committed when its promise resolves) holds. There is no waiting time added: an idle process
 * writes at once, one row per statement; a busy one handles many sockets per turn of the loop, and their writes
 * share a statement (issue 18: every statement costs the process a write system call and PostgreSQL a round of
 * parse, bind and execute, and statements were most of a reply's CPU).
 *
 * A batch runs outside any tenant's connection queue (db/fair-connections.ts): it carries several tenants' rows,
 * and must not wait behind the queue of the tenant that happened to ask first.
 */
import { outsideTenant } from './fair-connections';

interface PendingWrite<Item> {
  item: Item;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Rows per statement at most (bounds the statement's parameters and a failed batch's retries). */
const DEFAULT_MAX_BATCH = 500;

export class WriteBatcher<Item> {
  private pending: PendingWrite<Item>[] = [];
  private scheduled = false;

  /** `writeMany` writes the items in one statement (all of them or none: it runs as one statement). */
  constructor(
    private readonly writeMany: (items: readonly Item[]) => Promise<void>,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Writes `item` with the others asked for in this turn of the event loop; resolves once it is committed. */
  write(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => outsideTenant(() => this.flush()));
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batches: PendingWrite<Item>[][] = [];
    while (this.pending.length > 0) batches.push(this.pending.splice(0, this.maxBatch));
    await Promise.all(batches.map((batch) => this.writeBatch(batch)));
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
