/** `tessera seed [--force]`: the demo dataset into DATABASE_URL or the embedded database. */
import { seedDemo } from '../../db/seed.js';
import { createLogger } from '../../server/create-logger.js';
import { defineCommand, UsageError, writeOut } from '../cli-command.js';
import { loadCliConfig, resolveDatabase } from '../open-database.js';

export const SEED_HELP = `Usage: tessera seed [--force] [--schema <name>]

Creates and fills the demo tables in their own schema tessera_demo of DATABASE_URL
(or the embedded database); it never writes into public. Every table it creates is marked as its own; it never drops, changes or writes
into a table it did not create, and stops when one has a demo table's name.

Options:
  --force          Drop and recreate the demo tables it marked as its own (only those).
  --schema <name>  Schema for the demo tables (default tessera_demo, which the demo
                   model reads); it must be new or one tessera seed created.
  -h, --help     Show this help.
  -v, --version  Print the version.`;

export const seedCommand = defineCommand('seed', SEED_HELP, { force: { type: 'boolean' }, schema: { type: 'string' } }, async (values) => {
  const config = await loadCliConfig();
  const logger = createLogger({ level: config.logLevel });
  const { url, embedded } = await resolveDatabase(config, logger);
  try {
    if (typeof values.schema === 'string' && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.schema)) {
      throw new UsageError('--schema must be a lower-case identifier of letters, digits and underscores');
    }
    const result = await seedDemo(url, { force: values.force === true, ...(typeof values.schema === 'string' ? { schema: values.schema } : {}) });
    writeOut(result.seeded ? `Demo dataset seeded in ${result.ms} ms.` : 'Demo dataset already present (use --force to recreate it).');
    return 0;
  } finally {
    await embedded?.stop();
  }
});
