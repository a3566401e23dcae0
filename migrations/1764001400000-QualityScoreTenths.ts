import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A correction's quality_score goes from whole numbers to tenths (0.0 to 5.0): reviewers score 4.5. numeric(2,1)
 * keeps the decimal exactly, and the existing CHECK (quality_score BETWEEN 0 AND 5) carries over as it is.
 * Reverting rounds down, so a correction passes exactly the integer min_quality filters it passed with tenths.
 */
export class QualityScoreTenths1764001400000 implements MigrationInterface {
  name = 'QualityScoreTenths1764001400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE corrections ALTER COLUMN quality_score TYPE numeric(2,1)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE corrections ALTER COLUMN quality_score TYPE smallint USING floor(quality_score)::smallint`);
  }
}
