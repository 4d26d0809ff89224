/**
 * Runs a command as a real child process with only the given environment, and
 * lets a test wait for what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
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

/** Starts `command args` in `cwd` (the repository root by default); PATH (and HOME, for npm) come along. */
export function runProcess(command: string, args: readonly string[], env: Record<string, string>, cwd: string = REPO_ROOT): Spawned {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
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
      void exited.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}:\n${out}`)));
    });
  return { child, output: () => out, stderr: () => err, waitFor, exited };
}

/** What a TCP connect to 127.0.0.1:`port` gives: `connected`, or the error code (e.g. `ECONNREFUSED`). */
export function connectRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}
