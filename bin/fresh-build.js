// Whether dist/ (npm install builds it with tsc) is at least as new as every TypeScript file under
// src/, so running it cannot run stale code. TESSERA_FROM_SOURCE=1 always answers no.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const packageRoot = new URL('../', import.meta.url);

/** The newest modification time of a TypeScript file under `dir`. */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

export function builtIsFresh() {
  if (process.env.TESSERA_FROM_SOURCE === '1') return false;
  try {
    const built = statSync(new URL('dist/cli/main.js', packageRoot)).mtimeMs;
    return built >= newestSource(fileURLToPath(new URL('src', packageRoot)));
  } catch {
    return false;
  }
}

/** `dist/<path>.js` when the build is fresh, else `src/<path>.ts` (run through tsx). */
export function moduleUrl(path) {
  return builtIsFresh() ? new URL(`dist/${path}.js`, packageRoot).href : new URL(`src/${path}.ts`, packageRoot).href;
}
