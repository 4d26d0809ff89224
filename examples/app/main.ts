/**
 * `npm run example`: starts Tessera (`tessera serve`, with the embedded
 * PostgreSQL and demo data unless DATABASE_URL is set), waits until it is
 * ready, then starts the example app in front of it.
 *
 * Environment: EXAMPLE_PORT (default 3000), EXAMPLE_TESSERA_PORT (default 4000),
 * EXAMPLE_TOKEN_EXPIRES_IN (default 15m), CUBEJS_API_SECRET (default: a fresh random secret),
 * plus anything `tessera serve` reads (DATABASE_URL, LOG_LEVEL, ...).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExampleApp } from './create-example-app.js';
import { DEMO_USERS } from './demo-users.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_POLL_MS = 250;

const appPort = Number(process.env.EXAMPLE_PORT ?? 3000);
const tesseraPort = Number(process.env.EXAMPLE_TESSERA_PORT ?? 4000);
const tokenExpiresIn = process.env.EXAMPLE_TOKEN_EXPIRES_IN ?? '15m';
// The app and Tessera share this secret; a random one per run is enough for a demo.
const apiSecret = process.env.CUBEJS_API_SECRET ?? randomBytes(32).toString('hex');
const tesseraUrl = `http://127.0.0.1:${tesseraPort}`;

function startTessera(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CUBEJS_API_SECRET: apiSecret,
      PORT: String(tesseraPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function waitUntilReady(child: ChildProcess): Promise<void> {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error('Tessera exited before it was ready; see its output above.');
    try {
      const res = await fetch(`${tesseraUrl}/readyz`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

async function main(): Promise<void> {
  const tessera = startTessera();
  let server: Server | undefined;
  let stopping = false;
  // Ctrl+C stops the app, then Tessera (which finishes its requests), then exits with Tessera's code.
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server?.close();
    if (tessera.exitCode === null) tessera.kill('SIGTERM');
    else process.exit(tessera.exitCode);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  tessera.once('exit', (code) => {
    if (!stopping && server !== undefined) console.error(`Tessera stopped (exit code ${code ?? 'signal'}); stopping the example app.`);
    server?.close();
    if (stopping || server !== undefined) process.exit(code ?? 1);
  });

  await waitUntilReady(tessera);
  const app = createExampleApp({ tesseraUrl, apiSecret, tokenExpiresIn });
  server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(appPort, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const logins = DEMO_USERS.map((u) => `  ${u.username} / ${u.password}   (demo user ${u.userId}, tenant ${u.tenantId})`);
  process.stdout.write(
    [
      '',
      `Example app ready: http://127.0.0.1:${port}`,
      `It talks to Tessera at ${tesseraUrl} and mints tokens that expire after ${tokenExpiresIn}.`,
      'Log in as:',
      ...logins,
      'Press Ctrl+C to stop both.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
