/** `GET /schema/` serves the OpenAPI document; `GET /schema/swagger/` serves Swagger UI from the local swagger-ui-dist package. */
import express, { Router } from 'express';
import { z } from 'zod';
import { buildOpenApiDocument } from './openapi-document';
import { registerRoute } from './route-registry';

// swagger-ui-dist ships no types; absolutePath() is its documented way to find the assets.
const swaggerUiAssets = (require('swagger-ui-dist') as { absolutePath(): string }).absolutePath();

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Parley API</title>
  <link rel="stylesheet" href="/schema/swagger/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/schema/swagger/swagger-ui-bundle.js"></script>
  <script src="/schema/swagger/parley-initializer.js"></script>
</body>
</html>`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/schema/', dom_id: '#swagger-ui', deepLinking: true });
};`;

registerRoute({
  method: 'get',
  path: '/schema/',
  scope: 'public',
  summary: 'This OpenAPI 3.1 document',
  tags: ['documentation'],
  responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
});
registerRoute({
  method: 'get',
  path: '/schema/swagger/',
  scope: 'public',
  summary: 'Swagger UI for this API (assets served locally)',
  tags: ['documentation'],
  responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
});

/** Routes under /schema. */
export function createSchemaRouter(options: { version?: string } = {}): Router {
  const router = Router();
  router.get('/', (_request, response) => {
    response.json(buildOpenApiDocument({ version: options.version }));
  });
  router.get('/swagger', (_request, response) => {
    response.type('html').send(SWAGGER_PAGE);
  });
  // Assets are middleware, not routes: only the three files the page loads (the package's own index.html would
  // open the petstore demo).
  const assets = express.static(swaggerUiAssets, { index: false, maxAge: '1d' });
  router.use('/swagger', (request, response, next) => {
    if (request.method !== 'GET') return next();
    if (request.path === '/parley-initializer.js') return void response.type('application/javascript').send(INITIALIZER);
    if (request.path === '/swagger-ui.css' || request.path === '/swagger-ui-bundle.js') return assets(request, response, next);
    return next();
  });
  return router;
}
