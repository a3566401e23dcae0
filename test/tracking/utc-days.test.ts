import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, isCalendarDay, MAX_DAY, MAX_DAY_RANGE, MIN_DAY } from '../../src/tracking/utc-days';

const UTC_DAYS = path.resolve(__dirname, '../../src/tracking/utc-days.ts');

/**
 * Calls daysBetween in a worker thread and gives up after `milliseconds`: a date loop that never ends blocks the
 * thread it runs on, so only another thread can notice and stop it (terminate() interrupts even a busy loop).
 */
function daysBetweenWithin(milliseconds: number, from: string, to: string): Promise<{ days?: string[]; error?: string }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { daysBetween } = require('tsx/cjs/api').require(workerData.module, __filename);
    try { parentPort.postMessage({ days: daysBetween(workerData.from, workerData.to) }); }
    catch (error) { parentPort.postMessage({ error: String(error) }); }`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { module: UTC_DAYS, from, to },
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ error: `no answer within ${milliseconds} ms` });
    }, milliseconds);
    worker.once('message', (message) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      resolve({ error: String(error) });
    });
  });
}

describe('UTC days', () => {
  describe('daysBetween', () => {
    it('ends at the last day of year 9999 (the day after it must not sort before it)', async () => {
      const result = await daysBetweenWithin(10_000, '9999-12-29', '9999-12-31');
      expect(result).toEqual({ days: ['9999-12-29', '9999-12-30', '9999-12-31'] });
    });

    it('counts the days arithmetically, across months, leap days and the first day of 1970', () => {
      expect(daysBetween('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
      expect(daysBetween(MIN_DAY, '1970-01-02')).toEqual([MIN_DAY, '1970-01-02']);
      expect(daysBetween('2026-05-01', '2026-05-01')).toEqual(['2026-05-01']);
      expect(daysBetween('2026-05-02', '2026-05-01')).toEqual([]);
    });

    it(`refuses a range longer than ${MAX_DAY_RANGE} days or a day outside 1970..9999 instead of looping over it`, () => {
      expect(() => daysBetween(MIN_DAY, MAX_DAY)).toThrow(RangeError);
      expect(() => daysBetween('0000-01-01', '0000-01-02')).toThrow(RangeError);
      expect(() => daysBetween('2026-01-01', 'tomorrow')).toThrow(RangeError);
      expect(daysBetween('2000-01-01', addDays('2000-01-01', MAX_DAY_RANGE - 1))).toHaveLength(MAX_DAY_RANGE);
    });
  });

  describe('addDays', () => {
    it('refuses to step past 9999-12-31 or before 0000-01-01 rather than return a day that is not YYYY-MM-DD', () => {
      expect(addDays('9999-12-30', 1)).toBe(MAX_DAY);
      expect(() => addDays(MAX_DAY, 1)).toThrow(RangeError);
      expect(() => addDays('0000-01-01', -1)).toThrow(RangeError);
    });
  });

  describe('isCalendarDay', () => {
    it('accepts the days of years 1970 to 9999 only', () => {
      expect([MIN_DAY, MAX_DAY, '2024-02-29'].map(isCalendarDay)).toEqual([true, true, true]);
      expect(['1969-12-31', '0000-01-01', '2026-02-30', '+010000-01-01', '2026-1-01'].map(isCalendarDay)).toEqual([
        false,
        false,
        false,
        false,
        false,
      ]);
    });
  });
});
