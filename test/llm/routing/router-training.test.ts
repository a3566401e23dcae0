import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFingerprints, assignFolds, TRAINING_CONFIG, trainRouterModel } from '../../../scripts/routing/router-training';
import { featurize, loadRoutingRows, type RoutingRow } from '../../../scripts/routing/training-data';
import { createRoutingScorer } from '../../../src/llm/routing/routing-scorer';

const rows = loadRoutingRows();

/** Every 50th row of every data set, and a third of the written ones: every kind and label, and a training in about a second. */
function slice(): RoutingRow[] {
  return rows.filter((row, index) => index % 50 === 0 || (row.dataset === 'parley' && index % 3 === 0));
}

function trainOnSlice(): string {
  const subset = slice();
  const folds = assignFolds(subset, TRAINING_CONFIG.folds, TRAINING_CONFIG.seed);
  const outcome = trainRouterModel(
    subset,
    featurize(subset),
    subset.map((_, index) => index),
    folds,
    [0, 1],
  );
  return JSON.stringify(outcome.file);
}

describe('router training (npm run train:router)', () => {
  it('reads every data file with its labels and groups', () => {
    const count = (dataset: RoutingRow['dataset']) => rows.filter((row) => row.dataset === dataset).length;
    expect([count('gsm8k'), count('mmlu'), count('banking77'), count('clinc150')]).toEqual([1307, 3990, 13083, 16200]);
    expect(count('parley')).toBeGreaterThan(100);
    expect(new Set(rows.filter((row) => row.dataset === 'mmlu').map((row) => row.group)).size).toBe(57);
    // The scorer's label: the strong model right and the weak one wrong.
    expect(rows.filter((row) => row.dataset === 'gsm8k' && row.needsStrong).length).toBe(
      rows.filter((row) => row.dataset === 'gsm8k' && row.strongCorrect && !row.weakCorrect).length,
    );
  });

  it('keeps a group in one fold', () => {
    const folds = assignFolds(rows, 5, TRAINING_CONFIG.seed);
    const foldOfGroup = new Map<string, number>();
    rows.forEach((row, index) => {
      expect(foldOfGroup.get(row.group) ?? folds[index]).toBe(folds[index]);
      foldOfGroup.set(row.group, folds[index]);
    });
  });

  it('produces the same file twice from the same data and seed', () => {
    const first = trainOnSlice();
    expect(trainOnSlice()).toBe(first);
    const file = JSON.parse(first);
    expect(createRoutingScorer(file).modelVersion).toBe(file.version);
  });

  it('committed the model trained on the committed data', () => {
    const committed = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../src/llm/routing/router-model.json'), 'utf8'));
    expect(committed.training.data).toEqual(dataFingerprints());
    expect(committed.training.seed).toBe(TRAINING_CONFIG.seed);
  });
});
