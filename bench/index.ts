/**
 * `npm run bench [-- <name...>] [--duration S] [--runs N] [--database-url URL]`: runs the benchmarks and
 * prints one Markdown table; `docs/benchmarks.md` and `bench/results/latest.json` keep the figures.
 * Names: llm, aggregate, webhook, soak (10 minutes by default: --soak-duration S), tenant-delete, memory, capacity
 * (--model-latency MS, --customers N), routing-learning, whatsapp-latency, knowledge. No name
 * runs them all. The rows of the benchmarks that ran replace their earlier rows; the others' rows are kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runAggregateBenchmark } from './aggregate';
import { runCapacityBenchmark } from './capacity';
import { machineDescription, toMarkdown, type BenchRow } from './lib/report';
import { mergeResults, readKeptResults, renderBenchmarksDocument } from './lib/results';
import { runKnowledgeBenchmark } from './knowledge';
import { runLlmBenchmark } from './llm';
import { runMemoryBenchmark } from './memory';
import { runRoutingLearningBenchmark } from './routing-learning';
import { runSoakBenchmark } from './soak';
import { runTenantDeleteBenchmark } from './tenant-delete';
import { runWebhookBenchmark } from './webhook';
import { runWhatsAppLatencyBenchmark } from './whatsapp-latency';

interface BenchmarkOptions {
  durationSeconds: number;
  runs: number;
  serverUrl: string;
  soakSeconds: number;
  tenantDeleteMessages: number;
  tenantDeleteBeforeMessages: number;
  memoryWebhooks: number;
  modelLatencyMs: number;
  customers: number;
}

type BenchmarkRunner = (options: BenchmarkOptions) => Promise<BenchRow[]>;

const BENCHMARKS: Record<string, BenchmarkRunner> = {
  llm: (options) => runLlmBenchmark({ runs: options.runs }),
  aggregate: (options) => runAggregateBenchmark(options),
  webhook: (options) => runWebhookBenchmark({ ...options, connections: [50, 200] }),
  soak: (options) => runSoakBenchmark({ durationSeconds: options.soakSeconds, serverUrl: options.serverUrl }),
  'tenant-delete': (options) =>
    runTenantDeleteBenchmark({
      serverUrl: options.serverUrl,
      runs: options.runs,
      messages: options.tenantDeleteMessages,
      beforeMessages: options.tenantDeleteBeforeMessages,
    }),
  memory: (options) => runMemoryBenchmark({ serverUrl: options.serverUrl, webhooks: options.memoryWebhooks }),
  capacity: (options) =>
    runCapacityBenchmark({ serverUrl: options.serverUrl, modelLatencyMs: options.modelLatencyMs, customers: options.customers }),
  'routing-learning': async () => runRoutingLearningBenchmark(),
  'whatsapp-latency': (options) => runWhatsAppLatencyBenchmark({ serverUrl: options.serverUrl }),
  knowledge: (options) => runKnowledgeBenchmark({ serverUrl: options.serverUrl }),
};

/** Parses arguments, runs the chosen benchmarks and writes the report. */
export async function runFromCommandLine(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: 'string', default: '10' },
      'soak-duration': { type: 'string', default: '600' },
      runs: { type: 'string', default: '3' },
      'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      'tenant-delete-messages': { type: 'string', default: '100000' },
      'tenant-delete-before-messages': { type: 'string', default: '20000' },
      'memory-webhooks': { type: 'string', default: '1000000' },
      'model-latency': { type: 'string', default: '1500' },
      customers: { type: 'string', default: '1000' },
    },
  });
  const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
  const unknown = names.filter((name) => !BENCHMARKS[name]);
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
  const options: BenchmarkOptions = {
    durationSeconds: Number(values.duration),
    runs: Number(values.runs),
    serverUrl: values['database-url']!,
    soakSeconds: Number(values['soak-duration']),
    tenantDeleteMessages: Number(values['tenant-delete-messages']),
    tenantDeleteBeforeMessages: Number(values['tenant-delete-before-messages']),
    memoryWebhooks: Number(values['memory-webhooks']),
    modelLatencyMs: Number(values['model-latency']),
    customers: Number(values.customers),
  };
  const fresh: Record<string, BenchRow[]> = {};
  for (const name of names) {
    process.stderr.write(`running ${name}...\n`);
    fresh[name] = await BENCHMARKS[name](options);
  }
  const machine = machineDescription();
  process.stdout.write(`\nMachine: ${machine}\n\n${toMarkdown(Object.values(fresh).flat())}\n`);
  const root = path.resolve(__dirname, '..');
  const resultsFile = path.join(root, 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  const kept = readKeptResults(fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : null);
  const run = { date: new Date().toISOString(), command: `npm run bench -- ${argv.join(' ')}`.trim(), machine };
  const order = Object.keys(BENCHMARKS);
  const merged = mergeResults(kept, fresh, run, order);
  fs.writeFileSync(resultsFile, `${JSON.stringify(merged, null, 2)}\n`);
  fs.writeFileSync(path.join(root, 'docs', 'benchmarks.md'), renderBenchmarksDocument(merged, order));
  process.exit(0);
}

if (require.main === module) {
  runFromCommandLine(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
