/** UTC calendar days as YYYY-MM-DD strings: what summaries are keyed by and what the CLI and API accept. */

const DAY_MS = 86_400_000;

/** The UTC day of an instant. */
export function utcDay(instant: Date = new Date()): string {
  return instant.toISOString().slice(0, 10);
}

/** The day `count` days after `day` (negative: before). */
export function addDays(day: string, count: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + count * DAY_MS));
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/** True for a real calendar date written YYYY-MM-DD (rejects 2026-02-30). */
export function isCalendarDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && utcDay(new Date(`${value}T00:00:00Z`)) === value;
}
