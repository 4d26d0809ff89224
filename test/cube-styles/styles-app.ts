/**
 * The Cube-style model (test/cube-styles/model) served by a real app over its fixture schema,
 * plus a direct client for hand-written SQL (session time zone UTC), for one test file.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openAppAndDatabase, type AppAndDatabase } from '../support/app-and-database.js';
import type { TestApp } from '../support/test-app.js';
import { createFixture } from './fixture-data.js';

export const MODEL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'model');

/** Opens the app and the fixture before the file's tests and closes them after. */
export function useStylesApp(): { readonly app: TestApp; readonly db: pg.Client } {
  let opened: AppAndDatabase | undefined;
  beforeAll(async () => {
    opened = await openAppAndDatabase({ schemaPath: MODEL_DIR });
    await createFixture(opened.db);
  });
  afterAll(() => opened?.close());
  const need = (): AppAndDatabase => {
    if (!opened) throw new Error('the styles app is open only inside tests');
    return opened;
  };
  return {
    get app() {
      return need().app;
    },
    get db() {
      return need().db;
    },
  };
}
