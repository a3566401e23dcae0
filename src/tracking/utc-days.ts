/**
 * UTC calendar days as YYYY-MM-DD strings: what summaries are keyed by and what the CLI and API accept. Days are
 * compared as strings, which only sorts correctly while every year has four digits, so input is bounded to the
 * years 1970..9999 and day arithmetic refuses to leave 0000..9999 (the day after 9999-12-31 would be `+010000-01-01`).
 */

const DAY_MS = 86_400_000;

/** The first day the API, the CLI and the jobs accept. */
export const MIN_DAY = '1970-01-01';
/** The last day the API, the CLI and the jobs accept. */
export const MAX_DAY = '9999-12-31';
/** The longest range daysBetween lists (ten years): a longer one is refused, never looped over. */
export const MAX_DAY_RANGE = 3_653;

/** Milliseconds of a day's UTC midnight, NaN when the text is not YYYY-MM-DD with a four-digit year. */
function midnightOf(day: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
}

/** The UTC day of an instant. */
export function utcDay(instant: Date = new Date()): string {
  return instant.toISOString().slice(0, 10);
}

/** The day `count` days after `day` (negative: before); RangeError outside the years 0000..9999. */
export function addDays(day: string, count: number): string {
  const midnight = midnightOf(day) + count * DAY_MS;
  const year = new Date(midnight).getUTCFullYear();
  if (!Number.isFinite(midnight) || year < 0 || year > 9999)
    throw new RangeError(`${day} + ${count} days is not a day of the years 0000..9999`);
  return utcDay(new Date(midnight));
}

/** How many days `from` to `to` span, both included (0 when `to` is before `from`). */
export function dayCount(from: string, to: string): number {
  const span = Math.round((midnightOf(to) - midnightOf(from)) / DAY_MS) + 1;
  if (!Number.isFinite(span)) throw new RangeError(`${from}..${to} is not a range of YYYY-MM-DD days`);
  return Math.max(0, span);
}

/** Every day from `from` to `to`, both included; RangeError for more than MAX_DAY_RANGE days or a day outside 1970..9999. */
export function daysBetween(from: string, to: string): string[] {
  if (!isCalendarDay(from) || !isCalendarDay(to)) throw new RangeError(`${from}..${to} is not a range of days of the years 1970..9999`);
  const count = dayCount(from, to);
  if (count > MAX_DAY_RANGE) throw new RangeError(`${from}..${to} spans ${count} days, more than ${MAX_DAY_RANGE}`);
  return Array.from({ length: count }, (_, index) => addDays(from, index));
}

/** True for a real calendar date written YYYY-MM-DD of the years 1970..9999 (rejects 2026-02-30). */
export function isCalendarDay(value: string): boolean {
  const midnight = midnightOf(value);
  return !Number.isNaN(midnight) && utcDay(new Date(midnight)) === value && value >= MIN_DAY && value <= MAX_DAY;
}

/** The last day of a month given as YYYY-MM (e.g. 2024-02 -> 2024-02-29). */
export function lastDayOfMonth(month: string): string {
  const [year, monthNumber] = month.split('-').map(Number);
  // Day 0 of the next month is the last day of this one; Date.UTC takes months from 0.
  return utcDay(new Date(Date.UTC(year, monthNumber, 0)));
}
