#!/usr/bin/env node
// Runs the CLI. tsx is registered so TypeScript config files (tessera.config.ts) load. The CLI
// itself runs from dist/ when that build is at least as new as every file under src/ (npm install
// builds it), and from src/ through tsx otherwise, so an edited checkout never runs stale code.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);

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

function builtIsFresh() {
  if (process.env.TESSERA_FROM_SOURCE === '1') return false;
  try {
    return statSync(built).mtimeMs >= newestSource(fileURLToPath(new URL('src', root)));
  } catch {
    return false;
  }
}

await import(builtIsFresh() ? built.href : new URL('src/cli/main.ts', root).href);
