/** `tessera validate [dir]`: every model error, without a database; exit 1 when there is one. */
import { loadConfig } from '../../config/load-config.js';
import type { CliCommand } from '../cli-command.js';
import { writeErr, writeOut } from '../cli-command.js';
import { runValidateCommand, VALIDATE_HELP } from '../validate-command.js';

export const validateCliCommand: CliCommand = {
  help: VALIDATE_HELP,
  run: (args) => runValidateCommand(args, { stdout: writeOut, stderr: writeErr, defaultDir: async () => (await loadConfig()).schemaPath }),
};
