import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCursor, encodeCursor, paginationQueryShape } from '../../src/http/pagination';
import { createApiKey, createTenant } from '../support/factories';
import { useTestContext } from '../support/test-context';

const ID = '00000000-0000-4000-8000-000000000000';
/** A cursor as the server would write it, carrying any microseconds value. */
const cursorOf = (micros: string) => Buffer.from(`${micros}.${ID}`, 'utf8').toString('base64url');
/** 9999-12-31T23:59:59.999999Z, the last instant a cursor may point at. */
const LAST_MICROS = '253402300799999999';

describe('pagination', () => {
  describe('decodeCursor', () => {
    it('round-trips a position between 1970 and the end of 9999', () => {
      for (const micros of ['0', '1767225600123456', LAST_MICROS]) {
        expect(decodeCursor(encodeCursor({ createdAtMicros: micros, id: ID }))).toEqual({ createdAtMicros: micros, id: ID });
      }
    });

    it('refuses microseconds before 1970, after 9999 or beyond bigint, which PostgreSQL cannot turn into a time', () => {
      for (const micros of ['-1', '253402300800000000', '9223372036854775807', '-9223372036854775808', '99999999999999999999']) {
        expect(decodeCursor(cursorOf(micros))).toBeNull();
      }
    });
  });

  describe('from and to', () => {
    const schema = z.object({ from: paginationQueryShape.from, to: paginationQueryShape.to });

    it('accept instants from 1970 to the end of 9999, with any offset', () => {
      for (const instant of ['1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '2026-05-01T10:00:00+02:00']) {
        expect(schema.safeParse({ from: instant, to: instant }).success).toBe(true);
      }
    });

    it('refuse instants outside 1970..9999 with a message on the field', () => {
      for (const instant of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '1970-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00']) {
        const result = schema.safeParse({ from: instant });
        expect(result.success).toBe(false);
        expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['from'], message: expect.stringMatching(/1970.*9999/) })]);
      }
    });
  });

  describe('list endpoints', () => {
    const context = useTestContext();
    let key: string;

    beforeEach(async () => {
      const shop = await createTenant(context);
      key = (await createApiKey(context, shop.tenant, { scopes: ['analytics:view', 'conversations:manage'] })).secret;
    });

    it.each(['/v1/bot/knowledge/', '/v1/bot/corrections/', '/v1/bot/feedback/'])(
      '%s answers an out-of-range from, to or cursor with 400 (PostgreSQL refused it with a 500)',
      async (path) => {
        const queries = {
          from: 'from=0000-01-01T00:00:00Z',
          to: 'to=0001-01-01T00:00:00%2B14:00',
          cursor: `cursor=${cursorOf('9223372036854775807')}`,
        };
        for (const [field, query] of Object.entries(queries)) {
          const response = await request(context.app).get(`${path}?${query}`).set('Authorization', `Bearer ${key}`);
          expect(response.status, `${path}?${query}`).toBe(400);
          expect(response.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: field })] });
        }
      },
    );

    it('still pages with a cursor at the last instant of 9999', async () => {
      const response = await request(context.app)
        .get(`/v1/bot/knowledge/?cursor=${cursorOf(LAST_MICROS)}`)
        .set('Authorization', `Bearer ${key}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ data: [], next_cursor: null });
    });
  });
});
