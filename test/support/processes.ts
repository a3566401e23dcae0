/** Runs Parley's entry points as real child processes (CLIs, a started server). */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { inheritedEnvironment } from './test-environment';

export const ROOT = path.resolve(__dirname, '../..');
// `node --import tsx` runs the script in this one process; the tsx CLI would fork a child that a SIGKILL
// of the parent leaves running.
const NODE_ARGS = ['--import', 'tsx'];

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry with tsx and collects its output. */
export function runScript(script: string, args: string[], environment: Record<string, string>, timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { ...minimalEnvironment(), ...environment },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** PATH, HOME and TMPDIR only: the child's configuration comes from what the test passes, not from the developer's shell. */
export function minimalEnvironment(): Record<string, string> {
  return inheritedEnvironment();
}

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface StartedServer {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `src/server.ts` and waits until /readyz answers and the start-up banner (the webhook URL, printed after the
 * demo tenant's chat profile is written) is out: /readyz answers as soon as the port listens, a moment before it.
 */
export async function startServer(environment: Record<string, string>, timeoutMs = 150_000): Promise<StartedServer> {
  const port = environment.PORT ? Number(environment.PORT) : await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'src/server.ts')], {
    cwd: ROOT,
    env: { ...minimalEnvironment(), PORT: String(port), PUBLIC_BASE_URL: baseUrl, LOG_LEVEL: 'warn', ...environment },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.ok && output.includes('Twilio webhook URL:')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child,
    baseUrl,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
