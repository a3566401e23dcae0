/** SQL fragments reading optional tenant settings, so jobs apply per-tenant values inside one statement. */

/** Days of raw provider_usage a tenant keeps: settings.retentionDays when a positive integer, else `$n` (the default). */
export function retentionDaysSql(tenantsAlias: string, defaultParameter: string): string {
  // A malformed setting falls back to the default instead of failing the whole statement on a cast.
  return `(CASE WHEN ${tenantsAlias}.settings->>'retentionDays' ~ '^[1-9][0-9]{0,4}$'
                THEN (${tenantsAlias}.settings->>'retentionDays')::int ELSE ${defaultParameter}::int END)`;
}
