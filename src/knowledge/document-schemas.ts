/** Request and response schemas of the knowledge documents API; the router validates with them and OpenAPI is built from them. */
import { z } from 'zod';
import { paginationQueryShape } from '../http/pagination';
import { safeText } from '../http/safe-text';

export const documentIdParamsSchema = z.object({ id: z.uuid() });

const title = safeText().trim().min(1).max(300).optional().describe('Shown in lists and citations; default: the file name or URL');
const url = safeText().trim().min(1).max(2048);

/** A JSON body adds a web page, or a site crawled from its start page or its sitemap. */
export const addDocumentBodySchema = z.union([
  z.object({ url: url.describe('One web page, fetched and re-fetched by the re-sync job'), title }).strict(),
  z.object({ siteUrl: url.describe('A start page: the site is crawled (same host, bounded pages and depth)'), title }).strict(),
  z.object({ sitemapUrl: url.describe('A sitemap: its pages on the same host are crawled'), title }).strict(),
]);
export type AddDocumentBody = z.output<typeof addDocumentBodySchema>;

export const DOCUMENT_STATUSES = ['queued', 'indexing', 'ready', 'failed'] as const;

export const documentListQuerySchema = z.object({
  ...paginationQueryShape,
  status: z.enum(DOCUMENT_STATUSES).optional().describe('Only documents in this state'),
  site_document_id: z.uuid().optional().describe("A site's pages instead of the tenant's documents"),
});

const PASSAGE_KINDS = ['document', 'entry', 'correction'] as const;

export const searchQuerySchema = z.object({
  q: safeText().trim().min(1).max(1000).describe("A customer's message"),
  limit: z.coerce.number().int().min(1).max(20).default(5).describe('Passages returned, 1 to 20'),
});

export const documentSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  source_kind: z
    .enum(['file', 'url', 'site', 'faq'])
    .describe("faq: the tenant's one document of Q/A entries and approved corrections, kept in sync with them"),
  source_url: z.string().nullable(),
  file_name: z.string().nullable(),
  site_document_id: z.uuid().nullable(),
  status: z.enum(DOCUMENT_STATUSES),
  failure_reason: z.string().nullable().describe('code: message, e.g. "encrypted: the PDF is encrypted"'),
  fingerprint: z.string().nullable().describe('SHA-256 of the extracted text'),
  chunk_count: z.number().int(),
  embedding_model: z.string().nullable().describe('provider/model@dimensions of the stored embeddings; null: keyword search only'),
  last_synced_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const documentDetailSchema = documentSchema.extend({
  chunks: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(PASSAGE_KINDS),
      ordinal: z.number().int(),
      heading_path: z.array(z.string()),
      text: z.string(),
      token_count: z.number().int(),
      source: z.string(),
      embedded: z.boolean(),
    }),
  ),
});

export const searchResultSchema = z.object({
  query: z.string(),
  vector_leg: z.enum(['used', 'no_provider', 'not_embedded', 'unavailable']),
  embedding_model: z.string().nullable(),
  passages: z.array(
    z.object({
      chunk_id: z.string(),
      document_id: z.uuid(),
      kind: z
        .enum(PASSAGE_KINDS)
        .describe(
          'document: a passage of a document; entry: a Q/A entry (heading_path holds its question); correction: an approved correction',
        ),
      entry_id: z.uuid().nullable().describe('The Q/A entry the passage is (kind entry)'),
      correction_id: z.uuid().nullable().describe('The approved correction the passage is (kind correction)'),
      title: z.string(),
      source: z.string(),
      heading_path: z.array(z.string()),
      text: z.string(),
      score: z.number().describe('Reciprocal rank fusion: the sum of 1 / (60 + rank) over the legs that found it'),
      relevance: z
        .number()
        .describe(
          '0 to 1: the share of the query words it has, its cosine similarity, or (Q/A entries, corrections) the Q/A lexical score',
        ),
      keyword: z.object({ rank: z.number().int(), score: z.number(), coverage: z.number() }).nullable(),
      vector: z.object({ rank: z.number().int(), similarity: z.number() }).nullable(),
    }),
  ),
});
