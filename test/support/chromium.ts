/**
 * The Chromium that the browser tests drive: the build that the @sparticuz/chromium package carries inside itself
 * (one brotli-compressed binary), so `npm install && npm test` needs nothing but Node and no browser is ever
 * downloaded. Version 147.0.0 is pinned: it is the newest whose `engines` accept Node 20 (147.0.1 and later need Node 22.17).
 *
 * The package's own executablePath() extracts to a shared /tmp/chromium and trusts any file already there, so a
 * run killed mid-extraction would leave a truncated browser for every later run. Here the binary goes to a folder
 * named by the package version under node_modules/.cache, written under a temporary name and renamed into place.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ROOT } from './processes';

/** Flags for headless Chromium on a machine with no network beyond loopback and no GPU. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these, Chromium keeps trying to reach Google's hosts, which this closed network refuses.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The path of the packaged Chromium binary, extracting it on first use. */
export async function chromiumExecutablePath(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`The packaged Chromium is built for linux-x64; this is ${process.platform}-${process.arch}`);
  }
  // A direct devDependency, so npm places it at the top of node_modules (its exports hide package.json and bin/).
  const packageRoot = path.join(ROOT, 'node_modules', '@sparticuz', 'chromium');
  const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  const cache = path.join(ROOT, 'node_modules', '.cache', 'parley-chromium');
  const executable = path.join(cache, version, 'chromium');
  if (fs.existsSync(executable)) return executable;
  // Another pinned version's extraction is never used again: drop it rather than keep 190 MB per version. (Only one
  // test file extracts, so within a run nothing races this; two test runs started at once in one checkout could.)
  fs.rmSync(cache, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(executable), { recursive: true });
  const partial = `${executable}.${process.pid}.partial`;
  try {
    await pipeline(
      fs.createReadStream(path.join(packageRoot, 'bin', 'chromium.br')),
      zlib.createBrotliDecompress(),
      fs.createWriteStream(partial, { mode: 0o755 }),
    );
    fs.renameSync(partial, executable);
  } finally {
    // A failed extraction leaves nothing behind (the binary is 190 MB).
    fs.rmSync(partial, { force: true });
  }
  return executable;
}
