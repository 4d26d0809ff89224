#!/usr/bin/env node
// Runs the CLI. tsx is registered so TypeScript config files (tessera.config.ts) load; the CLI itself
// runs from dist/ when that build is fresh, else from src/ through tsx (see fresh-build.js).
import { register } from 'tsx/esm/api';
import { moduleUrl } from './fresh-build.js';

register();
await import(moduleUrl('cli/main'));
