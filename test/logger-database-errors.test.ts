/**
 * Database errors logged anywhere (the inbox processor, the sender, the jobs log `{ err }` themselves, outside the
 * HTTP error handler) print their class, SQLSTATE and stack, never the SQL, its parameters or the value PostgreSQL
 * quotes in its message: those are a customer's message text.
 */
import { Writable } from 'node:stream';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';

const CUSTOMER_TEXT = 'my card number is 4111 1111';

/** A logger whose JSON lines are kept as text and parsed. */
function capturingLogger() {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('info', stream), text, lines: () => text.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** What pg raises for `SELECT $1::uuid` with customer text: the value quoted in the message, echoed in `where`. */
function driverError(): DatabaseError {
  const error = new DatabaseError(`invalid input syntax for type uuid: "${CUSTOMER_TEXT}"`, 100, 'error');
  Object.assign(error, {
    code: '22P02',
    severity: 'ERROR',
    routine: 'string_to_uuid',
    where: `unnamed portal parameter $1 = '${CUSTOMER_TEXT}'`,
  });
  return error;
}

describe('the process logger (database errors)', () => {
  it('prints a TypeORM query failure by class, code and stack, without its query, parameters or quoted value', () => {
    const { logger, text, lines } = capturingLogger();
    const error = new QueryFailedError('INSERT INTO messages (body) VALUES ($1)', [CUSTOMER_TEXT], driverError());
    logger.error({ err: error, attempt: 1 }, 'processing inbound message failed');
    expect(text.join('\n')).not.toContain('4111');
    expect(text.join('\n')).not.toContain('INSERT');
    const [line] = lines();
    expect(line.err).toMatchObject({ type: 'QueryFailedError', code: '22P02', message: 'invalid input syntax for type uuid: "…"' });
    expect((line.err as { stack: string }).stack).toMatch(/^QueryFailedError: invalid input syntax for type uuid: "…"\n\s+at /);
  });

  it('prints pg errors, errors caused by one, and an error logged as the line itself the same way', () => {
    const { logger, text, lines } = capturingLogger();
    logger.warn({ err: driverError() }, 'lease renewal failed');
    logger.error(
      { err: new Error('turn failed', { cause: new QueryFailedError('SELECT $1', [CUSTOMER_TEXT], driverError()) }) },
      'job failed',
    );
    logger.error(new QueryFailedError('SELECT $1', [CUSTOMER_TEXT], driverError()));
    expect(text.join('\n')).not.toContain('4111');
    const [pgLine, causedLine, bareLine] = lines();
    expect(pgLine.err).toMatchObject({ type: 'DatabaseError', code: '22P02', routine: 'string_to_uuid' });
    expect(causedLine.err).toMatchObject({ type: 'Error', message: 'turn failed', cause: { type: 'QueryFailedError', code: '22P02' } });
    expect(bareLine.msg).toBe('invalid input syntax for type uuid: "…"');
  });

  it('still prints every field of an error that has nothing to do with the database', () => {
    const { logger, lines } = capturingLogger();
    logger.error({ err: Object.assign(new Error('upstream said "no"'), { status: 429, code: 'rate_limited' }) }, 'provider failed');
    expect(lines()[0].err).toMatchObject({ type: 'Error', message: 'upstream said "no"', status: 429, code: 'rate_limited' });
  });
});
