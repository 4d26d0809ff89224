import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/schema/load-model.js';
import type { Model } from '../../src/schema/model.js';
import { watchModel, type ModelWatcher } from '../../src/schema/watch-model.js';

const CUBE = (measure: string) => `cubes:\n  - name: orders\n    sql_table: tessera_demo.orders\n    measures:\n      - name: ${measure}\n        type: count\n`;

/** Resolves with the next event of a watcher; no time limit beyond the test's own. */
function events() {
  const queue: ({ kind: 'reload'; model: Model } | { kind: 'error'; errors: readonly Error[] })[] = [];
  let wake: (() => void) | undefined;
  const push = (e: (typeof queue)[number]) => {
    queue.push(e);
    wake?.();
  };
  const next = async () => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    return queue.shift()!;
  };
  return { push, next };
}

let dir: string;
let watcher: ModelWatcher | undefined;
afterEach(async () => {
  watcher?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hot reload of the model folder', () => {
  it('hands over the new model after an edit, reports a broken edit, and recovers on the next good one', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-watch-'));
    await writeFile(path.join(dir, 'orders.yml'), CUBE('count'));
    const first = await loadModel(dir);
    const e = events();
    watcher = watchModel(dir, {
      currentVersion: first.version,
      debounceMs: 20,
      onReload: (model) => e.push({ kind: 'reload', model }),
      onError: (errors) => e.push({ kind: 'error', errors }),
    });

    await writeFile(path.join(dir, 'orders.yml'), CUBE('orders_count'));
    const reloaded = await e.next();
    expect(reloaded.kind).toBe('reload');
    expect([...(reloaded as { model: Model }).model.cubes.get('orders')!.measures.keys()]).toEqual(['orders_count']);

    // A broken edit: errors are reported and no model is handed over.
    await writeFile(path.join(dir, 'orders.yml'), CUBE('orders_count').replace('type: count', 'type: cuont'));
    const broken = await e.next();
    expect(broken.kind).toBe('error');
    expect((broken as { errors: readonly Error[] }).errors[0]!.message).toMatch(/orders\.yml:5: orders\.orders_count: measure type must be one of/);

    await writeFile(path.join(dir, 'orders.yml'), CUBE('total'));
    const fixed = await e.next();
    expect(fixed.kind).toBe('reload');
    expect([...(fixed as { model: Model }).model.cubes.get('orders')!.measures.keys()]).toEqual(['total']);
  });
});
