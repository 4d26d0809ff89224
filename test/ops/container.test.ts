/**
 * The container files: a multi-stage, non-root image with a health check on
 * /readyz, and a compose file that binds loopback and keeps its secrets in an
 * untracked env file. `docker build` runs where a Docker daemon answers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/test-app.js';

const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));

describe('Dockerfile', () => {
  it('builds in stages and runs the last one as a non-root user', () => {
    const stages = instructions.filter((l) => l.startsWith('FROM '));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const last = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
    const user = last.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    expect(last.findIndex((l) => l.startsWith('USER '))).toBeLessThan(last.findIndex((l) => l.startsWith('ENTRYPOINT ')));
    expect(last).toContain('ENV NODE_ENV=production \\');
  });

  it('checks health on /readyz', () => {
    expect(dockerfile).toMatch(/HEALTHCHECK[^\n]*\\\n\s+CMD .*\/readyz/);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { ports?: string[]; environment?: Record<string, string>; env_file?: string }> };

  it('publishes ports on 127.0.0.1 only', () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('has no secret in the file: secrets come from the untracked .env, of which an example ships', () => {
    for (const service of Object.values(compose.services)) {
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|PASSWORD|DATABASE_URL/.test(name)) expect([name, value]).toEqual([name, expect.stringMatching(/\$\{[A-Z_]+(:\?[^}]*)?\}/)]);
      }
    }
    expect(compose.services.tessera?.env_file).toBe('.env');
    expect(existsSync(path.join(REPO_ROOT, '.env.example'))).toBe(true);
    const ignored = spawnSync('git', ['check-ignore', '-q', '.env'], { cwd: REPO_ROOT });
    expect(ignored.status).toBe(0);
    const example = spawnSync('git', ['check-ignore', '-q', '.env.example'], { cwd: REPO_ROOT });
    expect(example.status).toBe(1);
  });
});

const daemon = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
const dockerMissing = daemon.error ? `docker is not installed (${daemon.error.message})` : daemon.status !== 0 ? `no Docker daemon answers (${(daemon.stderr || '').trim().split('\n')[0]})` : undefined;

describe('docker build', () => {
  it('builds an image that runs as a non-root user with a health check', { timeout: 900_000 }, (ctx) => {
    if (dockerMissing) ctx.skip(`skipped: ${dockerMissing}`);
    const tag = `tessera-test:${process.pid}`;
    execFileSync('docker', ['build', '-t', tag, '.'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 900_000 });
    try {
      const config = JSON.parse(execFileSync('docker', ['image', 'inspect', tag, '--format', '{{json .Config}}'], { encoding: 'utf8' })) as { User: string; Healthcheck?: { Test: string[] } };
      expect(config.User).toBe('node');
      expect(config.Healthcheck?.Test.join(' ')).toContain('/readyz');
    } finally {
      spawnSync('docker', ['image', 'rm', '-f', tag]);
    }
  });
});
