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

  it.each([
    ['YAML only', 'yaml-only'],
    ['YAML with Jinja loops, macros and a Python file it does not call', 'yaml-jinja'],
    ['JS and YAML mixed (a YAML cube joins and extends a JS cube; a YAML view over JS cubes)', 'mixed'],
    ['ES modules, require, asyncModule and members given as functions', 'es-modules'],
    ['snake_case keys throughout', 'snake-case'],
    ['custom granularities and hierarchies', 'granularities'],
  ])('%s: renders exactly what its JS twin renders', async (_style, folder) => {
    const styled = await loadModel(path.join(FIXTURES, folder));
    const twin = await loadModel(path.join(FIXTURES, `${folder}-js`));
    expect(snapshotModel(styled)).toEqual(snapshotModel(twin));
    expect(snapshotModel(styled, {})).toEqual(snapshotModel(twin, {}));
  });
});
