import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalEnvironment, ROOT } from '../support/processes';
import { useTestContext } from '../support/test-context';

describe('the worker process', { timeout: 120_000 }, () => {
  const context = useTestContext({ truncate: false });

  it('starts the scheduler with every job, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/worker.ts')], {
      cwd: ROOT,
      env: {
        ...minimalEnvironment(),
        DATABASE_URL: context.database.connectionUrl,
        APP_ENCRYPTION_KEY: context.encryptionKey.toString('hex'),
        LOG_LEVEL: 'info',
      },
    });
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('"msg":"worker started"')) resolve();
      });
      void exited.then((code) => reject(new Error(`worker exited with ${code}: ${output}`)));
    });
    const started = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'scheduler started');
    expect(started.jobs).toEqual([
      'aggregate-yesterday@0 1 * * *',
      'aggregate-today@5 * * * *',
      'cleanup-retention@0 2 * * 0',
      'provider-health@15 * * * *',
      'knowledge-resync@30 3 * * *',
    ]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"worker stopping"');
  });
});
