/**
 * The DataSource for the typeorm CLI (migration:generate, migration:run).
 * It needs a real PostgreSQL: DATABASE_URL must be set.
 */
import { DataSource } from 'typeorm';
import { loadConfigOrExit } from './src/config';
import { buildDataSourceOptions } from './src/db/data-source';

const config = loadConfigOrExit();
if (!config.database.url) {
  process.stderr.write('ormconfig.ts: set DATABASE_URL to a PostgreSQL to use the typeorm CLI\n');
  process.exit(1);
}

export default new DataSource(buildDataSourceOptions(config.database.url, 2));
