/** `npm run migrate`: applies pending migrations to DATABASE_URL (Procfile release step); `-- --revert` undoes the last. */
import { loadConfigOrExit } from '../config';
import { openDatabase, revertLastMigration } from '../db/data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const revert = process.argv.includes('--revert');
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir, poolSize: 2 });
  try {
    if (revert) {
      const reverted = await revertLastMigration(database.dataSource);
      process.stdout.write(reverted ? `Reverted ${reverted}.\n` : 'No migration to revert.\n');
    } else {
      const applied = await database.dataSource.runMigrations({ transaction: 'each' });
      process.stdout.write(
        applied.length ? `Applied: ${applied.map((migration) => migration.name).join(', ')}\n` : 'No pending migrations.\n',
      );
    }
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`migrate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
