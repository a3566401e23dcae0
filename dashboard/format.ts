/** Number, money, percentage and change formatting for figures and tables. */

/** 0.1234 -> "12.3%"; null -> "–". */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(digits)}%`;
}

/** Integer with thousands separators. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US');
}

/** Dollars from a decimal string or number: cents for large amounts, four decimals for fractions of a cent. */
export function money(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '–';
  const amount = Number(value);
  if (!Number.isFinite(amount)) return '–';
  const digits = Math.abs(amount) >= 1 || amount === 0 ? 2 : 4;
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A score between 0 and 1 with two decimals. */
export function score(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toFixed(2);
}

/** Milliseconds as "850 ms" or "1.2 s". */
export function milliseconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** A change against the previous period: relative ("+12.5%"), in percentage points ("+3.1 pts") or of a 0-1 score ("+0.02"). */
export function change(
  value: number | null,
  kind: 'relative' | 'points' | 'score',
): { text: string; direction: 'up' | 'down' | 'flat' | 'none' } {
  if (value === null) return { text: 'no previous data', direction: 'none' };
  const direction = value > 0 ? 'up' : value < 0 ? 'down' : 'flat';
  const sign = value > 0 ? '+' : value < 0 ? '−' : '±';
  if (kind === 'score') return { text: `${sign}${Math.abs(value).toFixed(2)}`, direction };
  const magnitude = Math.abs(value) * 100;
  return { text: kind === 'relative' ? `${sign}${magnitude.toFixed(1)}%` : `${sign}${magnitude.toFixed(1)} pts`, direction };
}

/** A timestamp as a short local date and time. */
export function dateTime(value: string | null | undefined): string {
  if (!value) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}
