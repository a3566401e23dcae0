/**
 * Time passing for the shared circuit breakers without waiting for it. A breaker compares the timestamps the
 * database recorded (opened_at, probe_claimed_at, closed_at, provider_usage.created_at) with the database's
 * now() and, in its snapshot, with this process's clock; moving every recorded timestamp into the past is,
 * to both, that much time having passed. Instances see it at their next refresh, as they would see real time.
 */
import type { EntityManager } from 'typeorm';

/** To the breakers, `milliseconds` pass. */
export async function letBreakerTimePass(manager: EntityManager, milliseconds: number): Promise<void> {
  const earlier = (column: string) => `${column} = ${column} - make_interval(secs => $1::double precision / 1000)`;
  await manager.query(
    `UPDATE llm_circuit_breakers SET ${['opened_at', 'closed_at', 'probe_claimed_at', 'updated_at'].map(earlier).join(', ')}`,
    [milliseconds],
  );
  await manager.query(`UPDATE provider_usage SET ${earlier('created_at')}`, [milliseconds]);
}
