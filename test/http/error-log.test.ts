/**
 * A 500 is logged at error level with what an operator needs (the error's class, its SQLSTATE, a message and the
 * stack) and nothing a customer wrote: no SQL parameters, no driver detail, no value quoted in a driver message.
 */
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolOf } from '../../src/db/data-source';
import { errorHandler } from '../../src/http/errors';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const CUSTOMER_TEXT = 'my card number is 4111 1111';

/** A logger writing into an array of parsed lines. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
}

/** Serves one route that fails with `error`, behind the app's error handler; returns the log line of the failure. */
async function logOf(error: unknown): Promise<{ status: number; body: unknown; line: Record<string, unknown>; text: string }> {
  const { logger, lines } = capturingLogger();
  const app = express();
  app.get('/boom', () => {
    throw error;
  });
  app.use(errorHandler(logger));
  const response = await request(app).get('/boom');
  const line = lines.find((entry) => entry.msg === 'request failed');
  if (!line) throw new Error(`no error line in ${JSON.stringify(lines)}`);
  return { status: response.status, body: response.body, line, text: JSON.stringify(lines) };
}

describe('errorHandler logging of 500s', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  const failure = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      return error;
    }
    throw new Error('the statement succeeded');
  };

  it('logs a TypeORM query failure by class, code, safe message and stack, without its query or parameters', async () => {
    const error = await failure(() =>
      database.dataSource.query('SELECT $1::int AS amount, $2::text AS note', [CUSTOMER_TEXT, CUSTOMER_TEXT]),
    );
    const { status, body, line, text } = await logOf(error);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(line.level).toBe(50);
    expect(line.err).toMatchObject({ type: 'QueryFailedError', code: '22P02', message: 'invalid input syntax for type integer: "…"' });
    expect((line.err as { stack: string }).stack).toMatch(/^QueryFailedError: invalid input syntax for type integer: "…"\n\s+at /);
    expect(text).not.toContain('4111');
    expect(text).not.toContain('SELECT');
    expect(line.err).not.toHaveProperty('parameters');
    expect(line.err).not.toHaveProperty('query');
  });

  it('logs a pg error from the pool (the webhook path) without the parameter PostgreSQL echoes in its context', async () => {
    const error = await failure(() => poolOf(database.dataSource).query('SELECT $1::uuid', [CUSTOMER_TEXT]));
    const { line, text } = await logOf(error);
    expect(line.err).toMatchObject({ code: '22P02', message: 'invalid input syntax for type uuid: "…"' });
    expect(text).not.toContain('4111');
  });

  it('logs an ordinary error with its message, quoted values elided, and its cause made safe the same way', async () => {
    const cause = await failure(() => database.dataSource.query('SELECT $1::date', [CUSTOMER_TEXT]));
    const error = new Error(`could not store "${CUSTOMER_TEXT}"`, { cause });
    const { line, text } = await logOf(error);
    expect(line.err).toMatchObject({ type: 'Error', message: 'could not store "…"', cause: { type: 'QueryFailedError', code: '22007' } });
    expect(text).not.toContain('4111');
  });
});
