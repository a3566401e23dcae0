/**
 * The vector leg without pgvector: each tenant's passage embeddings (unit-length float32) are loaded into one
 * contiguous Float32Array and searched by brute force (a dot product per passage). A tenant's matrix is rebuilt when
 * its embedding version (count and highest id of its embedded passages) changes, which the search reads with the
 * passage count it needs anyway (one index-only scan). The cache is bounded in bytes across tenants (least recently used out first).
 *
 * Limits (docs/knowledge.md): 50,000 passages per tenant at 256 dimensions is 51 MB of vectors and a ~10 ms scan on
 * one core; the path beyond is pgvector's HNSW index where the database has it.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';
import { bytesToEmbedding, type KnowledgeChunkRepository } from '../db/repositories/knowledge-chunk-repository';

/** One tenant's embeddings of one model. */
interface TenantMatrix {
  version: string;
  dimensions: number;
  ids: string[];
  /** ids.length x dimensions, row-major. */
  vectors: Float32Array;
}

/** One hit of the vector leg. */
export interface VectorHit {
  id: string;
  similarity: number;
}

/** Rows per read while loading a tenant's matrix. */
const LOAD_PAGE = 5_000;

export interface VectorIndexOptions {
  /** Bytes of vectors kept across tenants (default 256 MiB). */
  maxBytes?: number;
  /** Rows per read while loading (default 5,000). */
  pageSize?: number;
}

/** Per-process, per-tenant brute-force cosine search. */
export class VectorIndex {
  private readonly matrices: LRUCache<string, TenantMatrix>;
  /** Loads in progress, so concurrent searches of a tenant load its matrix once. */
  private readonly loading = new Map<string, Promise<TenantMatrix>>();

  private readonly pageSize: number;

  constructor(
    private readonly chunks: KnowledgeChunkRepository,
    options: VectorIndexOptions = {},
  ) {
    this.pageSize = options.pageSize ?? LOAD_PAGE;
    this.matrices = boundedCache<string, TenantMatrix>({
      max: 10_000,
      // A tenant idle for an hour gives its memory back; the version check keeps a busy tenant's matrix fresh.
      ttlMs: 60 * 60_000,
      maxSize: options.maxBytes ?? 256 * 1024 * 1024,
      sizeOf: (matrix) => Math.max(1, matrix.vectors.byteLength + matrix.ids.length * 16),
    });
  }

  /**
   * The tenant's `limit` passages most similar to `query` (unit length), best first. `version` is the tenant's
   * current embedding version (KnowledgeChunkRepository.summary): a cached matrix of another version is reloaded.
   */
  async search(tenantId: string, model: string, version: string, query: Float32Array, limit: number): Promise<VectorHit[]> {
    const matrix = await this.matrixOf(tenantId, model, version);
    if (matrix.ids.length === 0 || matrix.dimensions !== query.length) return [];
    return topK(matrix, query, limit);
  }

  /** Bytes of vectors held now (the benchmark reports it). */
  heldBytes(): number {
    let total = 0;
    for (const matrix of this.matrices.values()) total += matrix.vectors.byteLength;
    return total;
  }

  private async matrixOf(tenantId: string, model: string, version: string): Promise<TenantMatrix> {
    const key = `${tenantId}|${model}`;
    const cached = this.matrices.get(key);
    if (cached?.version === version) return cached;
    const inFlight = this.loading.get(`${key}|${version}`);
    if (inFlight) return inFlight;
    const load = this.load(tenantId, model, version, cached).finally(() => this.loading.delete(`${key}|${version}`));
    this.loading.set(`${key}|${version}`, load);
    const matrix = await load;
    this.matrices.set(key, matrix);
    return matrix;
  }

  /**
   * The tenant's matrix at `version`. Ids only grow, so when passages were only added since `previous` (its rows plus
   * the rows after its last id make the new count) the new rows are appended instead of reloading every vector: a
   * document indexed into a 50k-passage tenant costs its own rows, not 50 MB.
   */
  private async load(tenantId: string, model: string, version: string, previous?: TenantMatrix): Promise<TenantMatrix> {
    const expected = Number(version.split(':')[0]);
    if (previous && previous.ids.length > 0 && previous.ids.length < expected) {
      const added = await this.readRows(tenantId, model, previous.ids[previous.ids.length - 1]);
      if (previous.ids.length + added.ids.length === expected && (added.rows[0]?.length ?? previous.dimensions) === previous.dimensions) {
        const vectors = new Float32Array(expected * previous.dimensions);
        vectors.set(previous.vectors);
        added.rows.forEach((row, index) => {
          vectors.set(row, (previous.ids.length + index) * previous.dimensions);
        });
        return { version, dimensions: previous.dimensions, ids: [...previous.ids, ...added.ids], vectors };
      }
    }
    const { ids, rows } = await this.readRows(tenantId, model, '0');
    const dimensions = rows[0]?.length ?? 0;
    const vectors = new Float32Array(rows.length * dimensions);
    rows.forEach((row, index) => {
      vectors.set(row, index * dimensions);
    });
    return { version, dimensions, ids, vectors };
  }

  /** The tenant's embeddings after `afterId`, in id order, read in pages. */
  private async readRows(tenantId: string, model: string, afterId: string): Promise<{ ids: string[]; rows: Float32Array[] }> {
    const ids: string[] = [];
    const rows: Float32Array[] = [];
    let after = afterId;
    for (;;) {
      const page = await this.chunks.embeddings(tenantId, model, after, this.pageSize);
      for (const row of page) {
        ids.push(row.id);
        rows.push(bytesToEmbedding(row.embedding));
      }
      if (page.length < this.pageSize) break;
      after = page[page.length - 1].id;
    }
    return { ids, rows };
  }
}

/** The `limit` highest dot products, best first (a bounded insertion list: limit is small). */
export function topK(matrix: Pick<TenantMatrix, 'ids' | 'vectors' | 'dimensions'>, query: Float32Array, limit: number): VectorHit[] {
  const { vectors, dimensions, ids } = matrix;
  const bestScores: number[] = [];
  const bestIndexes: number[] = [];
  for (let row = 0; row < ids.length; row += 1) {
    let dot = 0;
    const offset = row * dimensions;
    for (let column = 0; column < dimensions; column += 1) dot += vectors[offset + column] * query[column];
    if (bestScores.length === limit && dot <= bestScores[limit - 1]) continue;
    let position = bestScores.length;
    while (position > 0 && bestScores[position - 1] < dot) position -= 1;
    bestScores.splice(position, 0, dot);
    bestIndexes.splice(position, 0, row);
    if (bestScores.length > limit) {
      bestScores.pop();
      bestIndexes.pop();
    }
  }
  return bestIndexes.map((row, index) => ({ id: ids[row], similarity: bestScores[index] }));
}
