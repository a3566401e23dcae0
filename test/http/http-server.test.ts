/**
 * The web process's HTTP server (src/http/http-server.ts): requests and responses are built with the app's own
 * prototypes, so express's per-request re-prototyping changes nothing, and express behaves exactly as before.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/http-server';

const servers: Server[] = [];

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = createHttpServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An app that uses express's request and response helpers the way Parley's routes do. */
function helpersApp(name: string): express.Express {
  const app = express();
  app.locals.name = name;
  app.post('/echo', express.urlencoded({ extended: false }), (request, response) => {
    response.locals.seen = true;
    response.status(201).json({
      app: request.app.locals.name,
      header: request.get('x-probe'),
      form: request.is('application/x-www-form-urlencoded') ? request.body : null,
      query: request.query,
      path: request.path,
      locals: response.locals.seen,
    });
  });
  app.get('/fail', () => {
    throw new Error('boom');
  });
  app.use((error: Error, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    response.status(418).json({ error: { code: 'teapot', message: error.message } });
  });
  return app;
}

describe('the web process HTTP server', () => {
  it('builds each request and response with the app’s prototypes before express sees them', async () => {
    const app = helpersApp('one');
    const { server, url } = await listen(app);
    const seen: boolean[] = [];
    server.prependListener('request', (request, response) => {
      seen.push(Object.getPrototypeOf(request) === app.request, Object.getPrototypeOf(response) === app.response);
    });
    await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(seen).toEqual([true, true]);
  });

  it('keeps every express request and response helper working', async () => {
    const { url } = await listen(helpersApp('one'));
    const response = await fetch(`${url}/echo?page=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-probe': 'p' },
      body: 'Body=hi&From=whatsapp%3A%2B1',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      app: 'one',
      header: 'p',
      form: { Body: 'hi', From: 'whatsapp:+1' },
      query: { page: '2' },
      path: '/echo',
      locals: true,
    });
    const failed = await fetch(`${url}/fail`);
    expect(failed.status).toBe(418);
    expect(await failed.json()).toEqual({ error: { code: 'teapot', message: 'boom' } });
  });

  it('serves two apps side by side, each request knowing its own app', async () => {
    const [one, two] = [await listen(helpersApp('one')), await listen(helpersApp('two'))];
    const post = (url: string) =>
      fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }).then(
        (response) => response.json() as Promise<{ app: string }>,
      );
    expect((await post(one.url)).app).toBe('one');
    expect((await post(two.url)).app).toBe('two');
  });

  it('answers a malformed request line with the JSON error shape', async () => {
    const { url } = await listen(helpersApp('one'));
    const { port } = new URL(url);
    const net = await import('node:net');
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('NOT A REQUEST\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'bad_request', message: 'Malformed HTTP request' },
    });
  });
});
