/**
 * `tessera validate [dir]`: loads a model folder without a database, prints every error
 * (file, line where known, member) and exits non-zero when there is one.
 */
import { ModelError } from '../errors/engine-error.js';
import { loadModel } from '../schema/load-model.js';

export interface ValidateCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The model folder when none is given: the configured schema path. */
  readonly defaultDir: () => Promise<string>;
}

export const VALIDATE_HELP = `Usage: tessera validate [dir]

Loads the model folder (default: the configured schema path, CUBEJS_SCHEMA_PATH)
without a database and prints every error with its file, line and member.
Exits with 1 when the model has errors, 0 when it loads.`;

export async function runValidateCommand(args: readonly string[], io: ValidateCommandIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(VALIDATE_HELP);
    return 0;
  }
  if (args.length > 1 || args.some((a) => a.startsWith('-'))) {
    io.stderr(`tessera validate: expected at most one model folder\n\n${VALIDATE_HELP}`);
    return 2;
  }
  const dir = args[0] ?? (await io.defaultDir());
  const errors: ModelError[] = [];
  let cubes = 0;
  let views = 0;
  try {
    const model = await loadModel(dir, { errors });
    for (const cube of model.cubes.values()) {
      if (cube.kind === 'view') views++;
      else cubes++;
    }
  } catch (cause) {
    if (!(cause instanceof ModelError)) throw cause;
    errors.push(cause);
  }
  if (errors.length > 0) {
    for (const error of errors) io.stderr(error.message);
    io.stderr(`${errors.length} error${errors.length === 1 ? '' : 's'} in ${dir}`);
    return 1;
  }
  io.stdout(`${dir}: ${cubes} cube${cubes === 1 ? '' : 's'} and ${views} view${views === 1 ? '' : 's'} load without errors`);
  return 0;
}
