/**
 * Starts `bench/bench-server.ts` in its own process and talks to it over IPC: its port, its
 * CPU time so far (for CPU per request), and a clean stop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Child {
  readonly proc: ChildProcess;
  readonly port: number;
  /** User + system CPU time of the server process so far. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export function startChild(mode: 'tessera' | 'floor', env: NodeJS.ProcessEnv): Promise<Child> {
  const proc = fork(path.join(HERE, 'bench-server.ts'), [mode], { env, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const cpuMs = (): Promise<number> =>
    new Promise((resolve) => {
      const onMessage = (msg: { type: string; usage?: NodeJS.CpuUsage }) => {
        if (msg.type !== 'cpu' || !msg.usage) return;
        proc.off('message', onMessage);
        resolve((msg.usage.user + msg.usage.system) / 1000);
      };
      proc.on('message', onMessage);
      proc.send({ type: 'cpu' });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) {
        resolve();
        return;
      }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${mode} server exited with ${code}`));
    proc.once('exit', onExit);
    proc.on('message', (msg: { type: string; port?: number }) => {
      if (msg.type === 'ready' && msg.port) {
        proc.off('exit', onExit);
        resolve({ proc, port: msg.port, cpuMs, stop });
      }
    });
  });
}
