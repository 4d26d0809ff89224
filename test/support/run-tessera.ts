/**
 * Runs `tessera <args>` as a real process through `bin/tessera.js`, the installed entry point,
 * with only the given environment, and watches its output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './test-app.js';

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written to stdout/stderr so far. */
  readonly output: () => string;
  /** stderr alone. */
  readonly stderr: () => string;
  /** Resolves once `pattern` appears in the output (or rejects when the process exits first). */
  readonly waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
}

/** Runs `tessera <args>`; `cwd` defaults to the repository root. */
export function runTessera(args: string[], env: Record<string, string>, cwd: string = REPO_ROOT): Spawned {
  return spawnBin(path.join(REPO_ROOT, 'bin/tessera.js'), args, env, cwd);
}

/** Runs a `tessera.js` entry point (the repository's, or an unpacked package's). */
export function spawnBin(bin: string, args: string[], env: Record<string, string>, cwd: string): Spawned {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(pattern);
        if (m) {
          waiters.delete(check);
          resolve(m);
        }
      };
      waiters.add(check);
      check();
      void exited.then((code) => reject(new Error(`tessera exited (${code}) before printing ${pattern}:\n${out}`)));
    });
  return { child, output: () => out, stderr: () => err, waitFor, exited };
}

