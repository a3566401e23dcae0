/** Process and database helpers shared by the benchmarks. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The same PostgreSQL server, another database. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops and creates a database, then checkpoints, so a benchmark is not charged for the writes of the one before it
 * (a checkpoint flushing another benchmark's million rows mid-run shows up as this one's tail latency).
 */
export async function recreateDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  // CHECKPOINT needs a superuser (or pg_checkpoint); without one, the benchmark runs as it is.
  await admin.query('CHECKPOINT').catch(() => undefined);
  await admin.end();
}

/** Spawns a process (in ROOT) and resolves once readyUrl answers 2xx or readyLine is printed. */
export function spawnAndWait(
  command: string,
  args: string[],
  environment: Record<string, string>,
  readyUrl: string | null,
  readyLine?: string,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let settled = false;
    // Only the tail is kept (for error messages): a server logging every request must not grow this process.
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout!.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (readyLine && !settled && output.includes(readyLine)) {
        settled = true;
        resolve(child);
      }
    });
    child.stderr!.on('data', keep);
    child.on('exit', (code) => {
      if (!settled) reject(new Error(`${args.join(' ')} exited ${code}: ${output.slice(-2000)}`));
    });
    if (readyUrl) {
      const poll = async () => {
        for (let attempt = 0; attempt < 300 && !settled; attempt += 1) {
          try {
            if ((await fetch(readyUrl)).ok) {
              settled = true;
              // Keep draining output so the child never blocks on a full pipe.
              return resolve(child);
            }
          } catch {
            // not up yet
          }
          await new Promise((next) => setTimeout(next, 200));
        }
        if (!settled) reject(new Error(`not ready: ${output.slice(-2000)}`));
      };
      void poll();
    }
  });
}

/**
 * Starts the production server (`src/server.ts`, NODE_ENV=production) on a PostgreSQL database, at a random port in
 * [portBase, portBase + 1000) (benchmarks that run one after another never collide on a port still closing), and
 * waits until /readyz answers. `environment` adds to or overrides the defaults. The ports lie in Linux's ephemeral
 * range, where the machine's own outgoing connections (hundreds, under a benchmark's load) take theirs: a port found
 * taken is replaced by another, a few times.
 */
export async function startServerProcess(options: {
  databaseUrl: string;
  encryptionKey: Buffer;
  portBase: number;
  environment?: Record<string, string>;
}): Promise<{ server: ChildProcess; base: string }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = options.portBase + Math.floor(Math.random() * 1000);
    const base = `http://127.0.0.1:${port}`;
    try {
      const server = await spawnAndWait(
        process.execPath,
        ['--import', 'tsx', 'src/server.ts'],
        {
          DATABASE_URL: options.databaseUrl,
          APP_ENCRYPTION_KEY: options.encryptionKey.toString('hex'),
          PORT: String(port),
          HOST: '127.0.0.1',
          PUBLIC_BASE_URL: base,
          LOG_LEVEL: 'warn',
          NODE_ENV: 'production',
          ...options.environment,
        },
        `${base}/readyz`,
      );
      return { server, base };
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

/** Busy CPU time of the whole machine, in milliseconds (all cores; /proc/stat). */
export function machineBusyMilliseconds(): number {
  const [cpu] = fs.readFileSync('/proc/stat', 'utf8').split('\n');
  const fields = cpu.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busy = fields.reduce((sum, value) => sum + value, 0) - fields[3] - (fields[4] ?? 0);
  return (busy * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU time (user + system) a process has used, in milliseconds (/proc/<pid>/stat fields 14 and 15). */
export function processCpuMilliseconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The tables a reply writes: what autovacuum would keep vacuumed and analysed under the benchmarks' load. */
const TURN_TABLES = ['messages', 'conversations', 'customers', 'agent_interactions', 'interaction_feedback', 'provider_usage'];

/**
 * Stands in for PostgreSQL's autovacuum when the server runs without it. PostgreSQL runs autovacuum by default and
 * Parley needs it (README, Production configuration); this machine's CI configuration turns it off (conf.d/90-ci.conf) for
 * repeatable tests. Without it a queue that rewrites each message row several times fills its tables and indexes
 * with dead rows (57,000 in `messages` after a 2-minute soak), and the planner keeps the estimates of the empty
 * tables the benchmark started from: the benchmark would measure a misconfigured database, not a deployment. So, as
 * autovacuum's launcher would (autovacuum_naptime: 60 s by default), every `intervalMs` the turn tables are
 * vacuumed and analysed. On a server with autovacuum on, this does nothing: the real one runs.
 */
export async function standInForAutovacuum(url: string, intervalMs = 60_000): Promise<{ runs: () => number; stop: () => Promise<void> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const [{ autovacuum }] = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows;
  let runs = 0;
  let running: Promise<unknown> = Promise.resolve();
  const timer =
    autovacuum === 'off'
      ? setInterval(() => {
          running = running
            .then(() => client.query(`VACUUM (ANALYZE) ${TURN_TABLES.join(', ')}`))
            .then(() => (runs += 1))
            .catch(() => undefined);
        }, intervalMs)
      : undefined;
  return {
    runs: () => runs,
    async stop() {
      if (timer) clearInterval(timer);
      await running;
      await client.end();
    },
  };
}
