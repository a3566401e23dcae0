import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenancy, access, conversations, the message inbox, agent interactions and knowledge. */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await queryRunner.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        whatsapp_number varchar(32) NOT NULL,
        encrypted_credentials text NOT NULL,
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_tenants_whatsapp_number UNIQUE (whatsapp_number)
      )`);
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name varchar(200) NOT NULL,
        role varchar(20) NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_users_tenant ON users (tenant_id)`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        label varchar(200) NOT NULL DEFAULT '',
        key_hash char(64) NOT NULL,
        key_prefix varchar(16) NOT NULL,
        scopes text[] NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash)
      )`);
    await queryRunner.query(`CREATE INDEX ix_api_keys_tenant ON api_keys (tenant_id)`);
    await queryRunner.query(`CREATE INDEX ix_api_keys_user ON api_keys (user_id)`);
    await queryRunner.query(`
      CREATE TABLE customers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        whatsapp_address varchar(64) NOT NULL,
        wa_id varchar(32),
        profile_name varchar(200),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_customers_tenant_address UNIQUE (tenant_id, whatsapp_address)
      )`);
    await queryRunner.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'handoff', 'closed')),
        last_message_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_conversations_tenant_customer UNIQUE (tenant_id, customer_id)
      )`);
    await queryRunner.query(`CREATE INDEX ix_conversations_customer ON conversations (customer_id)`);
    await queryRunner.query(`CREATE INDEX ix_conversations_tenant_status ON conversations (tenant_id, status, last_message_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        direction varchar(10) NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        author varchar(10) NOT NULL CHECK (author IN ('customer', 'bot', 'agent', 'system')),
        author_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        message_sid varchar(64),
        body text NOT NULL DEFAULT '',
        media jsonb NOT NULL DEFAULT '[]'::jsonb,
        message_type varchar(32),
        button_payload varchar(1024),
        button_text varchar(256),
        replied_to_sid varchar(64),
        content_sid varchar(64),
        content_variables jsonb,
        raw_payload jsonb,
        status varchar(20) NOT NULL,
        error_code varchar(32),
        error_message text,
        attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        reply_to_message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
        chunk_index integer NOT NULL DEFAULT 0,
        processed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_messages_message_sid UNIQUE (message_sid)
      )`);
    await queryRunner.query(`CREATE INDEX ix_messages_conversation_seq ON messages (conversation_id, seq)`);
    // One bot reply per inbound message (per chunk): a second worker finishing the same message cannot add another.
    await queryRunner.query(
      `CREATE UNIQUE INDEX uq_messages_reply_chunk ON messages (reply_to_message_id, chunk_index) WHERE author = 'bot'`,
    );
    // The work queue: only unfinished rows are indexed, so claiming stays fast however long the history grows.
    await queryRunner.query(`
      CREATE INDEX ix_messages_pending_work ON messages (seq)
      WHERE status IN ('received', 'processing', 'pending', 'sending')`);
    // "Is an earlier message of this conversation still unfinished?" (per-conversation ordering).
    await queryRunner.query(`
      CREATE INDEX ix_messages_pending_by_conversation ON messages (conversation_id, seq)
      WHERE status IN ('received', 'processing', 'pending', 'sending')`);
    await queryRunner.query(`
      CREATE TABLE agent_interactions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        inbound_message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        reply_message_id uuid REFERENCES messages(id) ON DELETE SET NULL,
        provider varchar(64) NOT NULL,
        model varchar(128) NOT NULL,
        input_tokens integer NOT NULL DEFAULT 0,
        cached_input_tokens integer NOT NULL DEFAULT 0,
        output_tokens integer NOT NULL DEFAULT 0,
        total_tokens integer NOT NULL DEFAULT 0,
        latency_ms integer NOT NULL,
        finish_reason varchar(32) NOT NULL,
        knowledge_ids jsonb NOT NULL DEFAULT '[]'::jsonb,
        routing jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_agent_interactions_inbound UNIQUE (inbound_message_id)
      )`);
    await queryRunner.query(`CREATE INDEX ix_agent_interactions_conversation ON agent_interactions (conversation_id)`);
    await queryRunner.query(`CREATE INDEX ix_agent_interactions_tenant_created ON agent_interactions (tenant_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE knowledge_entries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        question text NOT NULL,
        answer text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}'::text[],
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_knowledge_entries_tenant ON knowledge_entries (tenant_id)`);
    // Lexical retrieval prefilter; 'simple' keeps it language-neutral (tenants answer in many languages).
    await queryRunner.query(`
      CREATE INDEX ix_knowledge_entries_search ON knowledge_entries
      USING gin (to_tsvector('simple', question || ' ' || answer))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE knowledge_entries`);
    await queryRunner.query(`DROP TABLE agent_interactions`);
    await queryRunner.query(`DROP TABLE messages`);
    await queryRunner.query(`DROP TABLE conversations`);
    await queryRunner.query(`DROP TABLE customers`);
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE users`);
    await queryRunner.query(`DROP TABLE tenants`);
  }
}
