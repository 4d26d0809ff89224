/**
 * `npm run example` (examples/app/main.ts) in a child process: one command
 * brings up Tessera and the example app, a login gets a token and data
 * through the app, and SIGTERM stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../examples/app/demo-users.js';
import { REPO_ROOT, testDatabaseUrl } from '../support/test-app.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let child: ChildProcess | undefined;
afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

describe('npm run example', () => {
  it('starts Tessera and the example app in one command and stops both on SIGTERM', async () => {
    const [appPort, tesseraPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'examples/app/main.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: testDatabaseUrl(),
        EXAMPLE_PORT: String(appPort),
        EXAMPLE_TESSERA_PORT: String(tesseraPort),
        CUBEJS_API_SECRET: undefined,
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    await expect.poll(() => output, { timeout: 60_000, interval: 200 }).toContain(`Example app ready: http://127.0.0.1:${appPort}`);

    const origin = `http://127.0.0.1:${appPort}`;
    const user = DEMO_USERS[0]!;
    const login = await fetch(`${origin}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: user.username, password: user.password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { token } = (await (await fetch(`${origin}/auth/tessera-token`, { headers: { cookie } })).json()) as { token: string };
    const load = await fetch(`${origin}/cubejs-api/v1/load?query=${encodeURIComponent('{"measures":["Orders.count"]}')}`, {
      headers: { Authorization: token },
    });
    expect(load.status).toBe(200);
    const body = (await load.json()) as { data: { 'Orders.count': string }[] };
    expect(Number(body.data[0]?.['Orders.count'])).toBeGreaterThan(0);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Tessera was a child of the command: it must be gone too.
    await expect(fetch(`http://127.0.0.1:${tesseraPort}/livez`)).rejects.toThrow();
  }, 90_000);
});
