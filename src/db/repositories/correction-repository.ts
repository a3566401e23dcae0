/**
 * The one home of the SQL on `corrections`: the API's reads and writes and the training export's batches. Every read
 * is scoped to a tenant. Approved corrections are found by the hybrid search, as passages (knowledge_chunks).
 */
import type { EntityManager } from 'typeorm';
import { addPageConditions, cursorKeySql, type PageQuery, pageOrderSql } from '../keyset-pagination';
import { Correction, type CorrectionCategory, type CorrectionContextMessage } from '../entities/correction';

/** A stored correction row, with its page cursor key. */
export interface CorrectionRow {
  id: string;
  agent_interaction_id: string | null;
  conversation_id: string | null;
  customer_message: string;
  context: CorrectionContextMessage[];
  bot_response: string;
  human_response: string;
  correction_reason: string | null;
  correction_category: CorrectionCategory;
  corrected_by: string | null;
  approved_for_training: boolean;
  /** numeric(2,1), which pg returns as a decimal string ("4.5"). */
  quality_score: string | null;
  approved_by: string | null;
  approved_at: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_micros: string;
}

/** Filters of the corrections list. */
export interface CorrectionFilter extends PageQuery {
  category?: CorrectionCategory;
  approved?: boolean;
  minQuality?: number;
  interactionId?: string;
}

/** What the training export reads of one correction. */
export interface ExportRow {
  id: string;
  created_at_text: string;
  customer_message: string;
  context: CorrectionContextMessage[];
  bot_response: string;
  human_response: string;
}

const SELECT_CORRECTION = `SELECT corrections.*, ${cursorKeySql('corrections.created_at')} AS cursor_micros FROM corrections`;

/** Reads and writes `corrections`. */
export class CorrectionRepository {
  constructor(private readonly manager: EntityManager) {}

  /** A page (limit + 1 rows, newest first) of the tenant's corrections matching the filter. */
  list(tenantId: string, filter: CorrectionFilter): Promise<CorrectionRow[]> {
    const parameters: unknown[] = [tenantId];
    const conditions = ['corrections.tenant_id = $1'];
    const add = (sql: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(`$${parameters.length}`));
    };
    if (filter.category) add((placeholder) => `corrections.correction_category = ${placeholder}`, filter.category);
    if (filter.approved !== undefined) add((placeholder) => `corrections.approved_for_training = ${placeholder}`, filter.approved);
    if (filter.minQuality !== undefined) add((placeholder) => `corrections.quality_score >= ${placeholder}`, filter.minQuality);
    if (filter.interactionId) add((placeholder) => `corrections.agent_interaction_id = ${placeholder}`, filter.interactionId);
    const columns = { createdAt: 'corrections.created_at', id: 'corrections.id' };
    addPageConditions(filter, columns, conditions, parameters);
    const order = pageOrderSql(filter, columns, parameters);
    return this.manager.query(`${SELECT_CORRECTION} WHERE ${conditions.join(' AND ')} ${order}`, parameters);
  }

  /** One correction row of the tenant, or null. */
  async findRow(tenantId: string, id: string): Promise<CorrectionRow | null> {
    const rows: CorrectionRow[] = await this.manager.query(
      `${SELECT_CORRECTION} WHERE corrections.id = $1 AND corrections.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ?? null;
  }

  /** One correction of the tenant as an entity (to change it), or null. */
  find(tenantId: string, id: string): Promise<Correction | null> {
    return this.manager.findOneBy(Correction, { id, tenantId });
  }

  /** Stores a new correction; returns its id. */
  async insert(values: Omit<Correction, 'id' | 'createdAt' | 'updatedAt'>): Promise<string> {
    const saved = await this.manager.save(this.manager.create(Correction, values));
    return saved.id;
  }

  /** Saves a changed correction (in the caller's transaction when given its manager). */
  async save(correction: Correction, manager: EntityManager = this.manager): Promise<void> {
    await manager.save(correction);
  }

  /** Deletes a correction of the tenant; false when there was none. */
  async delete(tenantId: string, id: string, manager: EntityManager = this.manager): Promise<boolean> {
    const result = await manager.delete(Correction, { id, tenantId });
    return Boolean(result.affected);
  }

  /**
   * The next batch of the tenant's approved corrections for export, oldest first, after the keyset position `after`
   * (created_at as text, so microseconds survive, and id).
   */
  exportBatch(
    tenantId: string,
    filter: { minQuality: number; category?: CorrectionCategory },
    after: { createdAt: string; id: string } | null,
    batchSize: number,
  ): Promise<ExportRow[]> {
    return this.manager.query(
      `SELECT id, created_at::text AS created_at_text, customer_message, context, bot_response, human_response FROM corrections
       WHERE tenant_id = $1 AND approved_for_training AND COALESCE(quality_score, 0) >= $2
         AND ($3::varchar IS NULL OR correction_category = $3)
         AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
       ORDER BY created_at, id LIMIT $6`,
      [tenantId, filter.minQuality, filter.category ?? null, after?.createdAt ?? null, after?.id ?? null, batchSize],
    );
  }
}
