/**
 * `npm run bench -- knowledge`: document knowledge at scale, on an in-memory PGlite and again on the local
 * PostgreSQL (`--database-url`'s server, database parley_knowledge), with the loopback fake OpenAI server as the
 * embedding model (deterministic vectors, no network).
 *   - Ingest throughput: synthetic Markdown documents through the whole indexer (extract, chunk with exact token
 *     counts, embed in batches over HTTP, write in one transaction per document), in passages per second.
 *   - Query latency at 1k, 10k and 50k passages in one tenant: the hybrid search a turn runs (the query embedded
 *     by the fake server, the keyword leg, the in-process vector scan, fusion), p50 and p99 over warm queries,
 *     plus the vector scan alone and the memory the tenant's vectors take. Passages beyond the ingested ones are
 *     written straight through the chunk repository (random unit vectors, text from a fixed vocabulary), so the
 *     50k point takes seconds to build.
 */
import { openDatabase } from '../src/db/data-source';
import { KnowledgeChunkRepository, type NewKnowledgeChunk } from '../src/db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from '../src/db/repositories/knowledge-document-repository';
import { parseConfig } from '../src/config';
import { normalize } from '../src/llm/embeddings';
import { buildServices } from '../src/services';
import { startFakeOpenAI } from '../test/fakes/openai-server';
import pino from 'pino';
import { mulberry32 } from '../src/seeded-random';
import { databaseUrl, recreateDatabase } from './lib/processes';
import { type BenchRow, quantile, summarize } from './lib/report';

/** Seeded (src/seeded-random.ts): the benchmark's data is the same on every run. */
const seeded = mulberry32;

const SIZES = [1_000, 10_000, 50_000];
const QUERIES = 60;
const DIMENSIONS = 256;

export interface KnowledgeBenchmarkOptions {
  /** Documents ingested through the indexer (10 passages each). */
  documents?: number;
  /** A PostgreSQL server to run on as well (the embedded PGlite always runs). */
  serverUrl?: string;
}

/** Runs the knowledge benchmark on PGlite, then on PostgreSQL when a server is given, and returns both's rows. */
export async function runKnowledgeBenchmark(options: KnowledgeBenchmarkOptions = {}): Promise<BenchRow[]> {
  const rows = await runOn('knowledge, PGlite', { pgliteDataDir: 'memory' }, options);
  if (!options.serverUrl) return rows;
  await recreateDatabase(options.serverUrl, DATABASE);
  return [...rows, ...(await runOn('knowledge, PostgreSQL', { url: databaseUrl(options.serverUrl, DATABASE), migrate: true }, options))];
}

/** The PostgreSQL database the benchmark recreates. */
const DATABASE = 'parley_knowledge';

async function runOn(
  name: string,
  target: { pgliteDataDir: string } | { url: string; migrate: true },
  options: KnowledgeBenchmarkOptions,
): Promise<BenchRow[]> {
  const random = seeded(19);
  const vocabulary = Array.from({ length: 3_000 }, (_, index) => `w${index.toString(36)}${'aeiou'[index % 5]}rd`);
  const words = (count: number) => Array.from({ length: count }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
  const openai = await startFakeOpenAI();
  const database = await openDatabase({ ...target, poolSize: 4 });
  const rows: BenchRow[] = [];
  try {
    const config = parseConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      APP_ENCRYPTION_KEY: '0'.repeat(64),
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: openai.baseUrl,
    });
    const services = buildServices(config, database.dataSource, Buffer.alloc(32), pino({ level: 'silent' }));
    const tenant = await services.tenants.create({
      name: 'Knowledge bench',
      whatsappNumber: '+15550008888',
      credentials: { twilioAuthToken: 'bench' },
      settings: { knowledge: { language: 'english' } },
    });

    // Ingest: documents of 10 sections of ~120 words, each section one passage.
    const documentCount = options.documents ?? 100;
    for (let index = 0; index < documentCount; index += 1) {
      const sections = Array.from({ length: 10 }, (_, section) => `## Section ${section}\n\n${words(60)}. ${words(60)}.`).join('\n\n');
      await services.knowledgeDocuments.addFile(tenant.id, {
        bytes: Buffer.from(`# Document ${index}\n\n${sections}\n`),
        fileName: `doc-${index}.md`,
      });
    }
    const ingestStarted = performance.now();
    await services.documentIndexer.runUntilIdle();
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const chunks = new KnowledgeChunkRepository(database.dataSource.manager);
    const ingested = await chunks.countForTenant(tenant.id);
    rows.push(
      summarize(name, `ingest through the indexer (${documentCount} documents, ${ingested} passages, fake embeddings)`, 'passages/s', [
        ingested / ingestSeconds,
      ]),
    );

    const resolved = (await services.tenants.findById(tenant.id))!;
    const embedder = services.knowledgeSearch.embedderOf(resolved)!;
    const documents = new KnowledgeDocumentRepository(database.dataSource.manager);
    let held = ingested;
    for (const size of SIZES) {
      // Grow the tenant to `size` passages, 1,000 per synthetic document.
      while (held < size) {
        const count = Math.min(1_000, size - held);
        const document = await documents.insert({
          tenantId: tenant.id,
          title: `bulk ${held}`,
          sourceKind: 'file',
          fileName: `bulk-${held}.md`,
        });
        const passages: NewKnowledgeChunk[] = Array.from({ length: count }, (_, ordinal) => ({
          ordinal,
          headingPath: ['Bulk'],
          text: words(100),
          tokenCount: 200,
          source: `bulk-${held}.md`,
          embedding: normalize(Array.from({ length: DIMENSIONS }, () => random() * 2 - 1)),
        }));
        await database.dataSource.transaction((manager) =>
          chunks.replaceForDocument(manager, { id: document.id, tenantId: tenant.id }, passages, 'parley_english', embedder.key),
        );
        held += count;
      }
      // Written straight through the repository, not the indexer: tell the search, as the indexer does.
      services.knowledgeSearch.forgetTenant(tenant.id);
      const coldStarted = performance.now();
      await services.knowledgeSearch.search(resolved, words(6), { limit: 5 });
      const coldMs = performance.now() - coldStarted;
      // What the index holds for the tenant once loaded (its Float32Array matrices; the ids add ~16 bytes a passage).
      // biome-ignore lint/complexity/useLiteralKeys: the index is private to the search; the bench reads its size
      const vectorBytes = services.knowledgeSearch['dependencies'].vectors.heldBytes();
      const latencies: number[] = [];
      const vectorScans: number[] = [];
      const summary = await chunks.summary(tenant.id, embedder.key);
      for (let query = 0; query < QUERIES; query += 1) {
        const text = words(6);
        const started = performance.now();
        await services.knowledgeSearch.search(resolved, text, { limit: 5 });
        latencies.push(performance.now() - started);
        const vector = normalize(Array.from({ length: DIMENSIONS }, () => random() * 2 - 1));
        const scanStarted = performance.now();
        // biome-ignore lint/complexity/useLiteralKeys: the index is private to the search; the bench times its scan alone
        await services.knowledgeSearch['dependencies'].vectors.search(tenant.id, embedder.key, summary.embeddingVersion, vector, 20);
        vectorScans.push(performance.now() - scanStarted);
      }
      const label = `${(size / 1000).toFixed(0)}k passages`;
      rows.push(summarize(name, `hybrid search p50, ${label} (one tenant)`, 'ms', [quantile(latencies, 0.5)]));
      rows.push(summarize(name, `hybrid search p99, ${label}`, 'ms', [quantile(latencies, 0.99)]));
      rows.push(summarize(name, `vector scan p50, ${label} (in process, ${DIMENSIONS} dims)`, 'ms', [quantile(vectorScans, 0.5)]));
      rows.push(summarize(name, `first search after growth (reads the added vectors), ${label}`, 'ms', [coldMs]));
      rows.push(summarize(name, `vector memory held by the index, ${label}`, 'MB', [vectorBytes / 1e6]));
      rows.push(summarize(name, `process RSS after the searches, ${label}`, 'MB', [process.memoryUsage().rss / 1e6]));
    }
  } finally {
    await database.close();
    await openai.close();
  }
  return rows;
}
