/**
 * `GET /dashboard/`: the supervisors' page. The HTML and CSS are served from `dashboard/`; the script is the page's
 * TypeScript and Chart.js bundled by esbuild on first request and kept in memory, so a fresh clone serves it with
 * no build step and nothing is ever fetched from a CDN.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { Router } from 'express';
import { registerRoute } from '../http/openapi/route-registry';

registerRoute({
  method: 'get',
  path: '/dashboard/',
  scope: 'public',
  tags: ['dashboard'],
  summary: 'Operations dashboard for supervisors (HTML; its API calls need an API key)',
  responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
});

// Inline styles stay allowed: Chart.js sizes its canvases through style attributes.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The `dashboard/` source folder, found from this file whether it runs from src/ (tsx) or dist/ (tsc). */
export function dashboardSourceDirectory(start = __dirname): string {
  for (let directory = start; ; directory = path.dirname(directory)) {
    const candidate = path.join(directory, 'dashboard');
    if (fs.existsSync(path.join(candidate, 'index.html')) && fs.existsSync(path.join(directory, 'package.json'))) return candidate;
    if (path.dirname(directory) === directory) throw new Error(`dashboard/ sources not found above ${start}`);
  }
}

/** Bundles dashboard/main.ts (and Chart.js from node_modules) into one minified browser script. */
export async function bundleDashboardScript(sourceDirectory = dashboardSourceDirectory()): Promise<string> {
  const result = await build({
    entryPoints: [path.join(sourceDirectory, 'main.ts')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** Routes under /dashboard. */
export function createDashboardPageRouter(options: { sourceDirectory?: string } = {}): Router {
  const sourceDirectory = options.sourceDirectory ?? dashboardSourceDirectory();
  let script: Promise<string> | null = null;
  const bundledScript = () => {
    script ??= bundleDashboardScript(sourceDirectory).catch((error: unknown) => {
      // A failed bundle is retried on the next request rather than cached.
      script = null;
      throw error;
    });
    return script;
  };

  const router = Router();
  router.use((_request, response, next) => {
    response.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    response.set('X-Content-Type-Options', 'nosniff');
    response.set('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get('/', (_request, response) => {
    response.set('Cache-Control', 'no-cache');
    response.type('html').sendFile(path.join(sourceDirectory, 'index.html'));
  });
  // Assets are middleware, not routes: the page's two files and nothing else from the folder.
  router.use(async (request, response, next) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    if (request.path === '/dashboard.css') return void response.type('text/css').sendFile(path.join(sourceDirectory, 'dashboard.css'));
    if (request.path === '/dashboard.js')
      return void response
        .type('application/javascript')
        .set('Cache-Control', 'no-cache')
        .send(await bundledScript());
    return next();
  });
  return router;
}
