/** The process logger in a real child process: its buffered standard output is flushed while quiet and at exit. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalEnvironment, ROOT } from './support/processes';

/**
 * Runs test/support/log-lines.ts and resolves with its standard output: when it exits, or as soon as `enough`
 * says so (then it is killed).
 */
function logLines(args: string[], enough: (stdout: string) => boolean = () => false): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support/log-lines.ts'), ...args], {
      cwd: ROOT,
      env: minimalEnvironment(),
    });
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not enough output: ${stdout}`));
    }, 20_000);
    const finish = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(stdout);
    };
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (enough(stdout)) finish();
    });
    child.on('close', finish);
  });
}

const lineCount = (stdout: string) => stdout.split('\n').filter((line) => line.includes('"msg":"line"')).length;

describe('the process logger (buffered standard output)', () => {
  it('writes a quiet process’s lines without waiting for the buffer to fill', async () => {
    // One short line stays far below the 4 kB buffer; the periodic flush must still write it while the process
    // keeps running (the child stays up for 15 s and is killed once the line is seen).
    const stdout = await logLines(['1', 'stay', '15000'], (output) => lineCount(output) === 1);
    expect(JSON.parse(stdout.trim().split('\n')[0])).toMatchObject({ level: 30, msg: 'line', index: 0, service: 'parley' });
  });

  it('writes every buffered line when the process exits', async () => {
    const stdout = await logLines(['500', 'exit']);
    expect(lineCount(stdout)).toBe(500);
  });
});
