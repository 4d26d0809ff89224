#!/usr/bin/env node
// Runs the TypeScript CLI in-process through tsx, so `npx tessera …` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
