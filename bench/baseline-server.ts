/** The in-run baseline for webhook ingest: a bare express route that parses the form and does one INSERT. */
import express from 'express';
import { Pool } from 'pg';

const [, , databaseUrl, portText, poolSizeText] = process.argv;
const pool = new Pool({ connectionString: databaseUrl, max: Number(poolSizeText ?? 10) });
const app = express();
app.post('/ingest', express.urlencoded({ extended: false, limit: '64kb' }), async (request, response) => {
  const body = request.body as Record<string, string>;
  await pool.query('INSERT INTO bench_baseline (sid, body) VALUES ($1, $2) ON CONFLICT (sid) DO NOTHING', [
    body.MessageSid,
    body.Body ?? '',
  ]);
  response.type('text/xml').send('<Response/>');
});
app.listen(Number(portText), '127.0.0.1', () => process.stdout.write('ready\n'));
