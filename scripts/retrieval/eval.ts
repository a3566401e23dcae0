/**
 * `npm run eval:retrieval [-- --examples N --queries N --no-write]`: retrieval quality on Banking77 (CC BY 4.0,
 * Casanueva et al. 2020; data/routing/banking77.jsonl.gz, attribution in data/routing/README.md).
 *
 * The labelled set: one canonical entry per intent (77), written as an FAQ page would be: the intent's name as its
 * heading and the first N training messages of the intent as the questions it answers. The queries are the test
 * split's messages; the one relevant entry of a query is its intent's. Three retrievers run on the same entries in
 * one embedded database:
 *   - the keyword leg (PostgreSQL full-text search, english configuration, ts_rank_cd) over the entries as documents;
 *   - the hybrid (keyword + vector, reciprocal rank fusion), only when OPENAI_API_KEY or GEMINI_API_KEY is set (the
 *     real embedding model; this script never uses a fake one, whose numbers would mean nothing);
 *   - the current Q/A retriever (src/knowledge/knowledge-retriever.ts) over the same entries as question/answer pairs.
 * Reported: recall@1, recall@5 and MRR (over the top 5), written to docs/retrieval-eval.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { openDatabase } from '../../src/db/data-source';
import { KnowledgeEntry } from '../../src/db/entities/knowledge-entry';
import { KnowledgeRetriever } from '../../src/knowledge/knowledge-retriever';
import { buildServices } from '../../src/services';
import { retrievalMetrics } from './metrics';

interface Row {
  split: 'train' | 'test';
  text: string;
  intent: string;
}

/** "card_arrival" -> "Card arrival". */
const headingOf = (intent: string) => intent.replace(/_/g, ' ').replace(/^./, (first) => first.toUpperCase());

/** Every query-th test row, in file order: a deterministic sample. */
function sample<T>(rows: T[], count: number): T[] {
  if (count >= rows.length) return rows;
  const step = rows.length / count;
  return Array.from({ length: count }, (_, index) => rows[Math.floor(index * step)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      examples: { type: 'string', default: '5' },
      queries: { type: 'string', default: '3080' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const examplesPerIntent = Number(values.examples);
  const rows = zlib
    .gunzipSync(fs.readFileSync(path.resolve('data/routing/banking77.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row);
  const intents = [...new Set(rows.map((row) => row.intent))].sort();
  const examples = new Map(
    intents.map((intent) => [intent, rows.filter((row) => row.split === 'train' && row.intent === intent).slice(0, examplesPerIntent)]),
  );
  const queries = sample(
    rows.filter((row) => row.split === 'test'),
    Number(values.queries),
  );

  // The platform's provider keys, if any, come from the environment; the database is always a throwaway PGlite.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const config = parseConfig({ ...inherited, NODE_ENV: 'test', LOG_LEVEL: 'silent', APP_ENCRYPTION_KEY: '0'.repeat(64) });
  const database = await openDatabase({ pgliteDataDir: 'memory', poolSize: 4 });
  const logger = pino({ level: 'silent' });
  const services = buildServices(config, database.dataSource, Buffer.alloc(32), logger);
  const tenant = await services.tenants.create({
    name: 'Banking77 eval',
    whatsappNumber: '+15550007777',
    credentials: { twilioAuthToken: 'eval' },
    settings: { knowledge: { language: 'english' } },
  });
  const documentIntent = new Map<string, string>();
  const entryIntent = new Map<string, string>();
  for (const intent of intents) {
    const questions = examples.get(intent)!.map((row) => row.text);
    const markdown = `# ${headingOf(intent)}\n\n${questions.map((question) => `- ${question}`).join('\n')}\n`;
    const document = await services.knowledgeDocuments.addFile(tenant.id, {
      bytes: Buffer.from(markdown),
      fileName: `${intent}.md`,
      title: headingOf(intent),
    });
    documentIntent.set(document.id, intent);
    const [entry] = await database.dataSource.manager.save(KnowledgeEntry, [
      { tenantId: tenant.id, question: `${headingOf(intent)}: ${questions.join(' ')}`, answer: headingOf(intent), tags: [] },
    ]);
    entryIntent.set(entry.id, intent);
  }
  const indexStarted = performance.now();
  await services.documentIndexer.runUntilIdle();
  const indexSeconds = (performance.now() - indexStarted) / 1000;
  const [{ failed }] = await database.dataSource.query(`SELECT count(*)::int AS failed FROM knowledge_documents WHERE status <> 'ready'`);
  if (failed > 0) throw new Error(`${failed} documents were not indexed`);
  const resolved = (await services.tenants.findById(tenant.id))!;
  const embedder = services.knowledgeSearch.embedderOf(resolved);

  const run = async (label: string, rank: (text: string) => Promise<string[]>) => {
    const started = performance.now();
    const results: Array<{ relevant: string; ranked: string[] }> = [];
    for (const query of queries) results.push({ relevant: query.intent, ranked: await rank(query.text) });
    const milliseconds = (performance.now() - started) / queries.length;
    process.stdout.write(`${label}: ${queries.length} queries, ${milliseconds.toFixed(1)} ms each\n`);
    return { label, ...retrievalMetrics(results), milliseconds };
  };
  const intentsOfPassages = (passages: Array<{ documentId: string }>) => passages.map((passage) => documentIntent.get(passage.documentId)!);
  const table = [
    await run('keyword leg (full-text search, english, ts_rank_cd)', async (text) =>
      intentsOfPassages((await services.knowledgeSearch.search(resolved, text, { limit: 5, keywordOnly: true })).passages),
    ),
  ];
  if (embedder) {
    table.push(
      await run(`hybrid (keyword + ${embedder.key}, RRF k=60)`, async (text) =>
        intentsOfPassages((await services.knowledgeSearch.search(resolved, text, { limit: 5 })).passages),
      ),
    );
  }
  const retriever = new KnowledgeRetriever(database.dataSource.manager);
  table.push(
    await run('current Q/A retriever (knowledge-retriever.ts)', async (text) =>
      (await retriever.retrieve(tenant.id, text, { limit: 5, minimumScore: 0 })).map((snippet) => entryIntent.get(snippet.id)!),
    ),
  );
  await database.close();

  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  const lines = [
    '# Retrieval evaluation (Banking77)',
    '',
    `Generated by \`npm run eval:retrieval\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Entries: one per intent (${intents.length}), its heading the intent name and its body the first ${examplesPerIntent} training`,
    `messages of the intent. Queries: ${queries.length} messages of the test split; the relevant entry is the query's intent.`,
    'Banking77: CC BY 4.0, Casanueva et al. 2020 (data/routing/README.md). Metrics over the top 5 passages.',
    '',
    '| Retriever | Recall@1 | Recall@5 | MRR@5 | ms / query |',
    '|---|---:|---:|---:|---:|',
    ...table.map(
      (row) =>
        `| ${row.label} | ${percent(row.recallAt1)} | ${percent(row.recallAt5)} | ${row.mrr.toFixed(3)} | ${row.milliseconds.toFixed(1)} |`,
    ),
    '',
    embedder
      ? `The hybrid ran with ${embedder.key} (a real provider key was set).`
      : 'The hybrid row is missing: it runs only with a provider key set (OPENAI_API_KEY or GEMINI_API_KEY), because a fake embedding model would say nothing about retrieval quality. Run `OPENAI_API_KEY=... npm run eval:retrieval` to add it.',
    '',
    `Indexing the ${intents.length} entries took ${indexSeconds.toFixed(1)} s (embedded PGlite${embedder ? ', with embeddings' : ''}).`,
    '',
  ];
  const report = lines.join('\n');
  process.stdout.write(`\n${report}`);
  if (!values['no-write']) fs.writeFileSync(path.resolve('docs/retrieval-eval.md'), report);
}

main().catch((error) => {
  process.stderr.write(`eval:retrieval failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
