/**
 * `npm run bench [-- <name...>] [--duration S] [--runs N] [--database-url URL]`: runs the benchmarks and
 * prints one Markdown table; `docs/benchmarks.md` and `bench/results/latest.json` keep the figures.
 * Names: llm, aggregate, webhook, soak (10 minutes by default: --soak-duration S). No name runs them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runAggregateBenchmark } from './aggregate';
import { machineDescription, toMarkdown, type BenchRow } from './lib/report';
import { runLlmBenchmark } from './llm';
import { runSoakBenchmark } from './soak';
import { runWebhookBenchmark } from './webhook';

type BenchmarkRunner = (options: { durationSeconds: number; runs: number; serverUrl: string; soakSeconds: number }) => Promise<BenchRow[]>;

const BENCHMARKS: Record<string, BenchmarkRunner> = {
  llm: (options) => runLlmBenchmark({ runs: options.runs }),
  aggregate: (options) => runAggregateBenchmark(options),
  webhook: (options) => runWebhookBenchmark({ ...options, connections: [50, 200] }),
  soak: (options) => runSoakBenchmark({ durationSeconds: options.soakSeconds, serverUrl: options.serverUrl }),
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
    },
  });
  const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
  const unknown = names.filter((name) => !BENCHMARKS[name]);
  if (unknown.length) {
    process.stderr.write(`Unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
  const options = { durationSeconds: Number(values.duration), runs: Number(values.runs), serverUrl: values['database-url']!, soakSeconds: Number(values['soak-duration']) };
  const rows: BenchRow[] = [];
  for (const name of names) {
    process.stderr.write(`running ${name}...\n`);
    rows.push(...(await BENCHMARKS[name](options)));
  }
  const machine = machineDescription();
  const table = toMarkdown(rows);
  process.stdout.write(`\nMachine: ${machine}\n\n${table}\n`);
  const root = path.resolve(__dirname, '..');
  fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  const stamp = new Date().toISOString();
  fs.writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), JSON.stringify({ machine, date: stamp, command: `npm run bench -- ${argv.join(' ')}`.trim(), rows }, null, 2));
  const document = [
    '# Benchmarks',
    '',
    `Last run: ${stamp} with \`npm run bench -- ${argv.join(' ')}\`.`,
    `Machine: ${machine}. Shared and noisy: read medians and in-run ratios, not absolute numbers.`,
    '',
    table,
    '',
  ].join('\n');
  fs.writeFileSync(path.join(root, 'docs', 'benchmarks.md'), document);
  process.exit(0);
}

if (require.main === module) {
  runFromCommandLine(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
