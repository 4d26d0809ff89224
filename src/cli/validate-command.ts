/**
 * `tessera validate [dir]`: loads a model folder without a database, prints every error
 * (file, line where known, member) and exits non-zero when there is one.
 */
import { ModelError } from '../errors/engine-error.js';
import { compileContextOf, type CompileContext } from '../schema/load/compile-context.js';
import { loadModel } from '../schema/load-model.js';
import type { SecurityContext } from '../schema/model.js';

export interface ValidateCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The model folder when none is given: the configured schema path. */
  readonly defaultDir: () => Promise<string>;
}

export const VALIDATE_HELP = `Usage: tessera validate [dir] [--context <json>]

Loads the model folder (default: the configured schema path, CUBEJS_SCHEMA_PATH)
without a database and prints every error with its file, line and member.
Exits with 1 when the model has errors, 0 when it loads.

  --context <json>  The security context to compile with, for a model that reads
                    COMPILE_CONTEXT: --context '{"tenant_id": 3}'. Default: {}.`;

export async function runValidateCommand(args: readonly string[], io: ValidateCommandIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(VALIDATE_HELP);
    return 0;
  }
  const rest = [...args];
  let compileContext: CompileContext | undefined;
  const at = rest.indexOf('--context');
  if (at >= 0) {
    const json = rest.splice(at, 2)[1];
    let parsed: unknown;
    try {
      parsed = JSON.parse(json ?? '');
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      io.stderr('tessera validate: --context needs a JSON object, like \'{"tenant_id": 3}\'');
      return 2;
    }
    compileContext = compileContextOf(parsed as SecurityContext);
  }
  if (rest.length > 1 || rest.some((a) => a.startsWith('-'))) {
    io.stderr(`tessera validate: expected at most one model folder\n\n${VALIDATE_HELP}`);
    return 2;
  }
  const dir = rest[0] ?? (await io.defaultDir());
  const errors: ModelError[] = [];
  let cubes = 0;
  let views = 0;
  try {
    const model = await loadModel(dir, { errors, ...(compileContext ? { compileContext } : {}) });
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
