import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/schema/load-model.js';
import { snapshotModel } from './model-snapshot.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models');

describe('a model written in two styles means the same thing', () => {
  it('the demo schema/ (YAML with one JS cube) renders exactly what its all-JS original renders', async () => {
    const yaml = await loadModel(path.join(ROOT, 'schema'));
    const js = await loadModel(path.join(FIXTURES, 'demo-js'));
    expect(snapshotModel(yaml)).toEqual(snapshotModel(js));
    expect(snapshotModel(yaml, {})).toEqual(snapshotModel(js, {}));
  });
});
