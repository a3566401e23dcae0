/**
 * A correction to @electric-sql/pglite-socket's query queue (0.2.x). PGlite is one PostgreSQL session behind every
 * socket connection, and the stock queue interleaves protocol messages of different connections whenever no
 * explicit transaction is open. An extended-protocol query is several messages (Parse, Bind, Describe, Execute,
 * then Sync) sharing the unnamed statement, so another connection's Parse between them makes a Bind use the wrong
 * statement ("bind message supplies 5 parameters, but prepared statement "" requires 3"), or worse, run it.
 * This queue keeps a connection's messages together until its Sync (or simple Query) completes, and, as before,
 * until its explicit transaction ends.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
  onData: (data: Uint8Array) => void;
}

/** The private shape of the stock queue this module takes over. */
interface StockQueue {
  queue: QueuedMessage[];
  processing: boolean;
  db: PGlite;
  lastHandlerId: number | null;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
  clearTransactionIfNeeded(handlerId: number): Promise<void>;
}

const PARSE = 0x50; // 'P'
const BIND = 0x42; // 'B'
const DESCRIBE = 0x44; // 'D'
const EXECUTE = 0x45; // 'E'
const CLOSE = 0x43; // 'C'
const FLUSH = 0x48; // 'H'
const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const OPENS_BATCH = new Set([PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, FLUSH]);
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/** Replaces the socket server's query scheduling with one that keeps each connection's batches whole. */
export function keepProtocolBatchesTogether(server: PGLiteSocketServer): void {
  const queue = (server as unknown as { queryQueue: StockQueue }).queryQueue;
  // The connection whose extended-protocol batch is open (between its first message and its Sync).
  let batchOwner: number | null = null;

  queue.processQueue = async function processQueue(this: StockQueue): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = batchOwner ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const index = owner === null ? 0 : this.queue.findIndex((entry) => entry.handlerId === owner);
        // The owner's next message has not arrived yet: wait for it (enqueue calls us again).
        if (index === -1) return;
        const [entry] = this.queue.splice(index, 1);
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(entry.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                entry.onData(data);
              },
            }),
          );
        } catch (error) {
          entry.reject(error);
          continue;
        }
        const type = entry.message[0];
        if (OPENS_BATCH.has(type)) batchOwner = entry.handlerId;
        else if (type === SYNC || type === QUERY) batchOwner = null;
        this.lastHandlerId = entry.handlerId;
        entry.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };

  const stockClearTransaction = queue.clearTransactionIfNeeded.bind(queue);
  queue.clearTransactionIfNeeded = async function clearTransactionIfNeeded(this: StockQueue, handlerId: number): Promise<void> {
    if (batchOwner === handlerId) {
      // The connection went away mid-batch: end its implicit transaction so the others can go on.
      batchOwner = null;
      await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} }));
    }
    await stockClearTransaction(handlerId);
    await this.processQueue();
  };
}
