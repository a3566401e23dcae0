/** Helpers for the real-PostgreSQL test mode (TEST_DATABASE_URL). */

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
