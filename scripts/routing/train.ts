/**
 * `npm run train:router`: trains the router's scorer and kind model on every row of data/routing/ and writes
 * src/llm/routing/router-model.json. Deterministic: a fixed seed and a fixed order of float operations, so two runs
 * write the same bytes (`sha256sum src/llm/routing/router-model.json`). The ranker's candidate (shape and n-gram scales,
 * equalised or raw benchmark rates) is chosen on two inner validation folds (folds 0 and 1 of the grouped split); the final model is then trained on all rows.
 * Options: --output <file> writes elsewhere (the reproducibility test uses it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assignFolds, QUESTION_FORMATS, TRAINING_CONFIG, type TrainingOutcome, trainRouterModel } from './router-training';
import { featurize, loadRoutingRows } from './training-data';

const DEFAULT_OUTPUT = path.resolve(__dirname, '..', '..', 'src', 'llm', 'routing', 'router-model.json');

/** Trains on all rows and returns the file's text. */
export function trainFromData(): { text: string; outcome: TrainingOutcome } {
  const rows = loadRoutingRows();
  const features = featurize(rows);
  const folds = assignFolds(rows, TRAINING_CONFIG.folds, TRAINING_CONFIG.seed);
  const all = rows.map((_, index) => index);
  const outcome = trainRouterModel(rows, features, all, folds, [0, 1]);
  return { text: `${JSON.stringify(outcome.file, null, 1)}\n`, outcome };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { output: { type: 'string', default: DEFAULT_OUTPUT } } });
  const started = performance.now();
  const { text, outcome } = trainFromData();
  fs.writeFileSync(values.output ?? DEFAULT_OUTPUT, text);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `inner validation APGR per ranker candidate (format / shape scale / n-gram scale / benchmark weights): ${outcome.validation.map((entry) => `${entry.format}/${entry.shapeScale}/${entry.ngramScale}${entry.format === 'multipleChoice' ? `/${entry.equalise ? 'equalised' : 'raw'}` : ''}: ${entry.apgr.toFixed(4)}`).join(', ')}; chosen ${QUESTION_FORMATS.map((format) => `${format} ${outcome.chosen[format].shapeScale}/${outcome.chosen[format].ngramScale}`).join(', ')}\n` +
      `wrote ${values.output ?? DEFAULT_OUTPUT} (${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB) in ${seconds} s\n`,
  );
}
