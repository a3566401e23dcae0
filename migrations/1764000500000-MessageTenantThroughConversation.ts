import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A message's tenant is its conversation's tenant, enforced by one composite foreign key instead of two single ones.
 * Stronger (a message can no longer name another tenant than its conversation's) and cheaper on the webhook path:
 * a foreign key check takes a KEY SHARE lock on the referenced row, and with messages → tenants every concurrent
 * insert of a tenant locked the same tenant row, so PostgreSQL built a new multixact for nearly every insert.
 * The conversation row is the only one locked now. Deleting a tenant still cascades to its messages through its
 * conversations. The key is added NOT VALID: it holds for every row written from here on, and the rows already
 * there are checked by 1764001200000 in a transaction of its own, whose locks let writes go on. (This migration
 * used to validate here, holding for the whole scan the locks its first statements take: ACCESS EXCLUSIVE on
 * conversations, SHARE ROW EXCLUSIVE on messages, so no write to either table and no read of conversations. An
 * install that ran it then has the key validated, and 1764001200000 does nothing there.)
 */
export class MessageTenantThroughConversation1764000500000 implements MigrationInterface {
  name = 'MessageTenantThroughConversation1764000500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations ADD CONSTRAINT uq_conversations_id_tenant UNIQUE (id, tenant_id)`);
    await queryRunner.query(
      `ALTER TABLE messages ADD CONSTRAINT fk_messages_conversation_tenant FOREIGN KEY (conversation_id, tenant_id)
       REFERENCES conversations (id, tenant_id) ON DELETE CASCADE NOT VALID`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey`);
    await queryRunner.query(`ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `ALTER TABLE messages ADD CONSTRAINT messages_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE`,
    );
    await queryRunner.query(`ALTER TABLE messages DROP CONSTRAINT fk_messages_conversation_tenant`);
    await queryRunner.query(`ALTER TABLE conversations DROP CONSTRAINT uq_conversations_id_tenant`);
  }
}
