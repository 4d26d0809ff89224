/**
 * Runs `tessera <args>` as a real process through `bin/tessera.js`, the installed entry point,
 * with only the given environment, and watches its output.
 */
import path from 'node:path';
import { runProcess, type Spawned } from './run-process.js';
import { REPO_ROOT } from './test-app.js';

export type { Spawned } from './run-process.js';

/** Runs `tessera <args>`; `cwd` defaults to the repository root. */
export function runTessera(args: string[], env: Record<string, string>, cwd: string = REPO_ROOT): Spawned {
  return spawnBin(path.join(REPO_ROOT, 'bin/tessera.js'), args, env, cwd);
}

/** Runs a `tessera.js` entry point (the repository's, or an unpacked package's). */
export function spawnBin(bin: string, args: string[], env: Record<string, string>, cwd: string): Spawned {
  return runProcess(process.execPath, [bin, ...args], env, cwd);
}
