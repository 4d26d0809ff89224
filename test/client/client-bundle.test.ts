/**
 * `tessera/client` must run in browsers with no runtime dependencies: a browser
 * bundle of it may contain nothing but its own files.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/test-app.js';

describe('tessera/client bundle', () => {
  it('bundles for the browser from src/client alone, with no package or node: import', async () => {
    const result = await build({
      entryPoints: [path.join(REPO_ROOT, 'src/client/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      absWorkingDir: REPO_ROOT,
      logLevel: 'silent',
    });

    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.length).toBeGreaterThan(0);
    expect(inputs.filter((file) => !file.startsWith('src/client/'))).toEqual([]);
    const output = Object.values(result.metafile.outputs)[0];
    expect(output?.imports).toEqual([]);
  });
});
