/** `tessera explain`: the resolved query, plan, SQL and parameters, without a database. */
import type { CliCommand } from '../cli-command.js';
import { writeErr, writeOut } from '../cli-command.js';
import { EXPLAIN_HELP, runExplainCommand } from '../explain-command.js';

export const explainCliCommand: CliCommand = {
  help: EXPLAIN_HELP,
  run: (args) => runExplainCommand(args, process.env, { stdout: writeOut, stderr: writeErr }),
};
