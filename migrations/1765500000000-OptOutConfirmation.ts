import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The one message an opted-out customer still gets, the opt-out's confirmation, is marked as such. The sender used to
 * recognise it by its created_at being equal to customers.opted_out_at (both the now() of the opt-out's transaction);
 * but the embedded PGlite's clock has millisecond resolution, so a reply stored by another transaction in the same
 * millisecond as an opt-out was taken for the confirmation and sent to a customer who had opted out (a CI failure of
 * test/whatsapp/turn-send-claim.test.ts). Sends still waiting when this runs keep the old rule's verdict.
 */
export class OptOutConfirmation1765500000000 implements MigrationInterface {
  name = 'OptOutConfirmation1765500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A constant default: PostgreSQL adds the column without rewriting the table.
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN confirms_opt_out boolean NOT NULL DEFAULT false`);
    await queryRunner.query(
      `UPDATE messages SET confirms_opt_out = true
         FROM conversations JOIN customers ON customers.id = conversations.customer_id
        WHERE messages.conversation_id = conversations.id AND messages.direction = 'outbound'
          AND messages.status IN ('pending', 'sending') AND messages.created_at = customers.opted_out_at`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN confirms_opt_out`);
  }
}
