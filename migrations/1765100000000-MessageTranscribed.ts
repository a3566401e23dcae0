import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inbound media understood before the agent runs: a voice note's transcript becomes the message's body (what the
 * agent, the history, routing, feedback and the dashboard read), and `transcribed` says the text is a transcript,
 * not typed. What happened to each media item (its kind, outcome, transcript, model) is kept in the existing
 * `media` descriptors; the media bytes themselves are never stored.
 */
export class MessageTranscribed1765100000000 implements MigrationInterface {
  name = 'MessageTranscribed1765100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN transcribed boolean NOT NULL DEFAULT false`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN transcribed`);
  }
}
