/** A correction's quality_score is 0..5 in steps of 0.1 (the seed approves with 4.5): stored, filtered and exported as given. */
import { beforeEach, describe, expect, it } from 'vitest';
import { QualityScoreTenths1764001400000 } from '../../migrations/1764001400000-QualityScoreTenths';
import { createApiKey, createTenant } from '../support/factories';
import { correctionBody, withKey } from '../support/correction-factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/corrections';

describe('quality_score with one decimal', () => {
  const context = useTestContext();
  let manager: ReturnType<typeof withKey>;
  let reviewer: ReturnType<typeof withKey>;
  /** Correction id by the score it was approved with. */
  let idByScore: Map<number, string>;

  const storedScores = async () =>
    (await context.database.dataSource.query(`SELECT quality_score::text AS score FROM corrections ORDER BY quality_score`)).map(
      (row: { score: string }) => row.score,
    );

  beforeEach(async () => {
    const shop = await createTenant(context);
    manager = withKey(
      context,
      (await createApiKey(context, shop.tenant, { scopes: ['users:manage', 'analytics:view'], name: 'Maria' })).secret,
    );
    reviewer = withKey(
      context,
      (await createApiKey(context, shop.tenant, { scopes: ['users:manage', 'analytics:view'], name: 'Rui' })).secret,
    );
    idByScore = new Map();
    for (const score of [0.1, 4, 4.5, 5]) {
      const created = await manager.post(BASE, correctionBody({ human_response: `Answer scored ${score}` })).expect(201);
      const approved = await reviewer.post(`${BASE}/${created.body.id}/approve/`, { approved: true, quality_score: score });
      expect(approved.status, `quality_score ${score}`).toBe(200);
      expect(approved.body.quality_score).toBe(score);
      idByScore.set(score, created.body.id);
    }
  });

  it('stores the score exactly, as a decimal with one digit after the point', async () => {
    expect(await storedScores()).toEqual(['0.1', '4.0', '4.5', '5.0']);
    expect((await manager.get(`${BASE}/${idByScore.get(4.5)}/`)).body.quality_score).toBe(4.5);
  });

  it('filters the list and the approved list with a decimal min_quality', async () => {
    const scores = async (path: string) =>
      (await manager.get(path).expect(200)).body.data.map((row: { quality_score: number }) => row.quality_score);
    expect(await scores(`${BASE}/?min_quality=4.5`)).toEqual([5, 4.5]);
    expect(await scores(`${BASE}/approved/?min_quality=4.6`)).toEqual([5]);
    expect(await scores(`${BASE}/approved/?min_quality=0.1`)).toEqual([5, 4.5, 4, 0.1]);
  });

  it('exports the corrections scoring at least a decimal min_quality', async () => {
    const response = await manager.get(`${BASE}/export/?format=openai&min_quality=4.5`).expect(200);
    const answers = response.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).messages.at(-1).content);
    expect(answers).toEqual(['Answer scored 4.5', 'Answer scored 5']);
  });

  it('migration 1764001400000 reverts to whole numbers (rounding down, so an integer filter keeps its rows) and back', async () => {
    const migration = new QualityScoreTenths1764001400000();
    const runner = context.database.dataSource.createQueryRunner();
    const columnType = async () =>
      (
        await runner.query(
          `SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_name = 'corrections' AND column_name = 'quality_score'`,
        )
      )[0];
    try {
      await migration.down(runner);
      expect(await columnType()).toMatchObject({ data_type: 'smallint' });
      expect(await storedScores()).toEqual(['0', '4', '4', '5']);
      await migration.up(runner);
      expect(await columnType()).toEqual({ data_type: 'numeric', numeric_precision: 2, numeric_scale: 1 });
      expect(await storedScores()).toEqual(['0.0', '4.0', '4.0', '5.0']);
      await expect(runner.query(`UPDATE corrections SET quality_score = 5.1`)).rejects.toThrow(/check constraint/);
    } finally {
      await runner.release();
    }
  });
});
