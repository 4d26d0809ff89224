/**
 * The one-time token production first-run setup needs (`X-Setup-Token`): TESSERA_SETUP_TOKEN,
 * else generated at first start, printed once and kept in a file only the server's user can read.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SetupTokenOptions {
  /** TESSERA_SETUP_TOKEN, when set. */
  readonly configured?: string | undefined;
  /** Where a generated token is kept (mode 0600). */
  readonly file: string;
  /** Prints the generated token once; standard output by default. */
  readonly print?: ((line: string) => void) | undefined;
}

export interface SetupToken {
  /** Constant-time comparison with the expected token; false when none is known. */
  matches(candidate: string | undefined): boolean;
  /** Setup is done: a generated token's file is removed. */
  consume(): void;
}

/** Reads or creates the token; call it only while no admin exists, so a token is printed only when it can be used. */
export function loadSetupToken(options: SetupTokenOptions): SetupToken {
  const generated = options.configured === undefined;
  const expected = options.configured ?? readOrCreate(options);
  const pepper = randomBytes(32);
  const mac = (value: string) => createHmac('sha256', pepper).update(value, 'utf8').digest();
  const expectedMac = mac(expected);
  return {
    matches: (candidate) => candidate !== undefined && candidate !== '' && timingSafeEqual(mac(candidate), expectedMac),
    consume: () => {
      if (generated) rmSync(options.file, { force: true });
    },
  };
}

function readOrCreate(options: SetupTokenOptions): string {
  if (existsSync(options.file)) return readFileSync(options.file, 'utf8').trim();
  mkdirSync(path.dirname(options.file), { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(options.file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  // writeFileSync's mode is masked by the umask; the file must be the server user's alone.
  chmodSync(options.file, 0o600);
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  print(`First-run setup needs this one-time token in the X-Setup-Token header (also in ${options.file}): ${token}`);
  return token;
}
