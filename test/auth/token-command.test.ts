import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../src/cli/token-command.js';
import { createAuthenticator } from '../../src/auth/create-authenticator.js';
import { SECRET, testConfig } from './support/test-config.js';

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;

function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = runTokenCommand(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, () => NOW_MS);
  return { code, stdout, stderr, token: stdout.trim() };
}

function claims(token: string, secret = SECRET) {
  return jwt.verify(token, secret, { algorithms: ['HS256'], clockTimestamp: NOW });
}

describe('tessera token', () => {
  it('prints an HS256 token with JSON values and nested dotted keys, alone on stdout', () => {
    const { code, token, stderr } = run(['-e', '30d', '-s', SECRET, '-p', 'user_id=42', '-p', 'u.id=42', '-p', 'roles=["admin"]']);
    expect(code).toBe(0);
    expect(token.split('.')).toHaveLength(3);
    expect(jwt.decode(token, { complete: true })?.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(claims(token)).toEqual({ user_id: 42, u: { id: 42 }, roles: ['admin'], iat: NOW, exp: NOW + 30 * 86400 });
    expect(stderr).toContain('Expires in: 30d');
  });

  it('keeps values that are not JSON as strings, and cuts only at the first =', () => {
    const { token } = run(['-s', SECRET, '-p', 'name=alice', '-p', 'q=a=b', '-p', 'flag=true', '-p', 'zip=007', '-p', 'empty=']);
    expect(claims(token)).toMatchObject({ name: 'alice', q: 'a=b', flag: true, zip: '007', empty: '' });
  });

  it('makes a token the authenticator accepts, with u merged into the context', async () => {
    const { token } = run(['-s', SECRET, '-p', 'u.id=42', '-p', 'tenant_id=1']);
    const auth = createAuthenticator(testConfig(), { clock: () => NOW_MS });
    const result = await auth({ headers: { authorization: token }, ip: '127.0.0.1', raw: undefined });
    expect(result.securityContext).toEqual({ id: 42, tenant_id: 1, iat: NOW, exp: NOW + 30 * 86400 });
  });

  it('defaults to 30 days, reads seconds as seconds, and -e 0 means no expiry', () => {
    expect(claims(run(['-s', SECRET]).token)).toEqual({ iat: NOW, exp: NOW + 30 * 86400 });
    expect(claims(run(['-s', SECRET, '-e', '3600']).token)).toEqual({ iat: NOW, exp: NOW + 3600 });
    expect(claims(run(['-s', SECRET, '--expiry', '2 hours']).token)).toEqual({ iat: NOW, exp: NOW + 7200 });
    const forever = run(['-s', SECRET, '-e', '0']);
    expect(claims(forever.token)).toEqual({ iat: NOW });
    expect(forever.stderr).toContain('Expires in: never');
  });

  it('takes the secret from CUBEJS_API_SECRET, TESSERA_API_SECRET or the first of CUBEJS_API_SECRETS', () => {
    expect(claims(run([], { CUBEJS_API_SECRET: SECRET }).token)).toBeDefined();
    expect(claims(run([], { TESSERA_API_SECRET: SECRET }).token)).toBeDefined();
    expect(claims(run([], { CUBEJS_API_SECRETS: ` ${SECRET} , other` }).token)).toBeDefined();
    expect(claims(run(['-s', 'explicit-secret'], { CUBEJS_API_SECRET: SECRET }).token, 'explicit-secret')).toBeDefined();
  });

  it('fails clearly without a secret', () => {
    const { code, stdout, stderr } = run(['-p', 'a=1']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('No secret: pass -s SECRET or set CUBEJS_API_SECRET.');
  });

  it('warns about a secret shorter than 32 bytes', () => {
    expect(run(['-s', 'short']).stderr).toContain('shorter than 32 bytes');
    expect(run(['-s', SECRET]).stderr).not.toContain('shorter than 32 bytes');
  });

  it.each([
    [['-s', SECRET, '-p', 'novalue'], 'Invalid --payload "novalue": use key=value.'],
    [['-s', SECRET, '-p', '=1'], 'Invalid --payload "=1": use key=value.'],
    [['-s', SECRET, '-p', 'a..b=1'], 'Invalid --payload key "a..b".'],
    [['-s', SECRET, '-p', '__proto__.x=1'], 'Invalid --payload key "__proto__.x".'],
    [['-s', SECRET, '-p', 'a=1', '-p', 'a=2'], 'The payload key a is given twice.'],
    [['-s', SECRET, '-p', 'u=1', '-p', 'u.id=2'], 'The payload key u.id conflicts with u.'],
    [['-s', SECRET, '-p', 'u.id=2', '-p', 'u=1'], 'The payload key u conflicts with another key.'],
    [['-s', SECRET, '-e', 'soon'], 'Invalid --expiry "soon"'],
    [['-s', SECRET, '-e', '1d', '-p', 'exp=5'], 'The payload sets exp and --expiry sets it too; use one of them.'],
    [['-s', SECRET, '--algorithm', 'HS512'], "Unknown option '--algorithm'"],
    [['-s', SECRET, 'extra'], "Unexpected argument 'extra'"],
  ])('rejects %j with a clear message', (argv, message) => {
    const { code, stdout, stderr } = run(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
  });

  it('uses an exp given in the payload when no --expiry is given', () => {
    expect(claims(run(['-s', SECRET, '-p', `exp=${NOW + 5}`]).token)).toEqual({ exp: NOW + 5, iat: NOW });
  });

  it('documents every option in --help', () => {
    const { code, stdout } = run(['--help']);
    expect(code).toBe(0);
    for (const text of ['--expiry', '--secret', '--payload', '--help', 'CUBEJS_API_SECRET', 'Dotted keys nest', 'HS256']) {
      expect(stdout).toContain(text);
    }
  });
});
