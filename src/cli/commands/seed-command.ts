/** `tessera seed [--force]`: the demo dataset into DATABASE_URL or the embedded database. */
import { seedDemo } from '../../db/seed.js';
import { createLogger } from '../../server/create-logger.js';
import { defineCommand, writeOut } from '../cli-command.js';
import { loadCliConfig, resolveDatabase } from '../open-database.js';

export const SEED_HELP = `Usage: tessera seed [--force]

Creates and fills the demo tables in DATABASE_URL (or the embedded database).
It never touches a table it did not create.

Options:
  --force        Drop and recreate the demo tables Tessera created (and only those).
  -h, --help     Show this help.
  -v, --version  Print the version.`;

export const seedCommand = defineCommand('seed', SEED_HELP, { force: { type: 'boolean' } }, async (values) => {
  const config = await loadCliConfig();
  const logger = createLogger({ level: config.logLevel });
  const { url, embedded } = await resolveDatabase(config, logger);
  try {
    const result = await seedDemo(url, { force: values.force === true });
    writeOut(result.seeded ? `Demo dataset seeded in ${result.ms} ms.` : 'Demo dataset already present (use --force to recreate it).');
    return 0;
  } finally {
    await embedded?.stop();
  }
});
