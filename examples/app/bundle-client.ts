/**
 * Serves `tessera/client` to the browser straight from the TypeScript source:
 * one ESM file built with esbuild (installed with tsx), so the example needs no build step.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLIENT_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/client/index.ts');

let bundled: Promise<string> | undefined;

/** The client as one ES module; built once per process. */
export function bundleClient(): Promise<string> {
  bundled ??= build({
    entryPoints: [CLIENT_ENTRY],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  }).then((result) => {
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error('esbuild produced no output for the client.');
    return file.text;
  });
  // A failed build is retried on the next request instead of being cached.
  bundled.catch(() => {
    bundled = undefined;
  });
  return bundled;
}
