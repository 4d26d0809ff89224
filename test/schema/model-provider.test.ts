import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/errors/engine-error.js';
import { createModelProvider, createModelProviderFromSources } from '../../src/schema/model-provider.js';
import { recordingContext } from './recording-context.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models');
const sourceOf = (model: Awaited<ReturnType<Awaited<ReturnType<typeof createModelProvider>>['modelFor']>>) =>
  model.cubes.get('orders')!.source.sql(recordingContext().ctx);

describe('models compiled per COMPILE_CONTEXT', () => {
  it('serves one shared model when no file reads COMPILE_CONTEXT', async () => {
    const provider = await createModelProvider(path.join(FIXTURES, 'yaml-only'));
    expect(provider.perContext).toBe(false);
    expect(await provider.modelFor({ tenant_id: 1 })).toBe(provider.base);
    expect(await provider.modelFor({ tenant_id: 2 })).toBe(provider.base);
  });

  it('compiles each tenant its own model, and the YAML and JS twins agree per tenant', async () => {
    for (const folder of ['compile-context', 'compile-context-js']) {
      const provider = await createModelProvider(path.join(FIXTURES, folder));
      expect(provider.perContext).toBe(true);
      const one = await provider.modelFor({ tenant_id: 1, plan: 'free' });
      const two = await provider.modelFor({ tenant_id: 2, plan: 'enterprise' });
      expect(sourceOf(one)).toBe('SELECT * FROM tessera_demo.orders WHERE tenant_id = 1');
      expect(sourceOf(two)).toBe('SELECT * FROM tessera_demo.orders WHERE tenant_id = 2');
      expect(one.cubes.get('orders')!.measures.has('average_amount')).toBe(false);
      expect(two.cubes.get('orders')!.measures.has('average_amount')).toBe(true);
      expect(one.version).not.toBe(two.version);
    }
  });

  it('never shares a model between different contexts by default, and reuses it for an equal one', async () => {
    const provider = await createModelProvider(path.join(FIXTURES, 'compile-context'));
    const a = await provider.modelFor({ tenant_id: 1, plan: 'free' });
    expect(await provider.modelFor({ plan: 'free', tenant_id: 1 })).toBe(a);
    expect(await provider.modelFor({ tenant_id: 1, plan: 'pro' })).not.toBe(a);
  });

  it('names the compiled model with contextToAppId: same app id, same model; different app ids, different models', async () => {
    const calls: unknown[] = [];
    const provider = await createModelProvider(path.join(FIXTURES, 'compile-context'), {
      contextToAppId: ({ securityContext }) => {
        calls.push(securityContext);
        return `CUBEJS_APP_${String(securityContext.tenant_id)}`;
      },
    });
    const first = await provider.modelFor({ tenant_id: 1, plan: 'free', user: 'a' });
    // The same tenant with another user shares the tenant's compiled model, as Cube does.
    expect(await provider.modelFor({ tenant_id: 1, plan: 'free', user: 'b' })).toBe(first);
    const other = await provider.modelFor({ tenant_id: 2, plan: 'free' });
    expect(other).not.toBe(first);
    expect(sourceOf(other)).toBe('SELECT * FROM tessera_demo.orders WHERE tenant_id = 2');
    expect(calls).toHaveLength(3);
  });

  it('keeps at most maxCompiledModels models, recompiling an evicted one when asked again', async () => {
    const provider = await createModelProvider(path.join(FIXTURES, 'compile-context'), { maxCompiledModels: 2 });
    const one = await provider.modelFor({ tenant_id: 1 });
    await provider.modelFor({ tenant_id: 2 });
    await provider.modelFor({ tenant_id: 3 });
    const again = await provider.modelFor({ tenant_id: 1 });
    expect(again).not.toBe(one);
    expect(sourceOf(again)).toBe(sourceOf(one));
  });

  it('starts with an empty base model when the folder only compiles with a context, as Cube compiles on first request', async () => {
    const provider = await createModelProviderFromSources([
      { fileName: 'o.js', content: "const t = COMPILE_CONTEXT.securityContext.tenant.toLowerCase();\ncube(`orders_${t}`, { sql_table: `${t}.orders` });" },
    ]);
    expect(provider.base.cubes.size).toBe(0);
    const model = await provider.modelFor({ tenant: 'ACME' });
    expect([...model.cubes.keys()]).toEqual(['orders_acme']);
  });

  it('refuses a context whose COMPILE_CONTEXT values cannot be written into SQL, and a bad app id', async () => {
    const provider = await createModelProvider(path.join(FIXTURES, 'compile-context'));
    const error = await provider.modelFor({ tenant_id: '1 OR 1 = 1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('ERR_AUTH_CONTEXT_INVALID');
    const badId = await createModelProviderFromSources(
      [{ fileName: 'o.js', content: "cube('o', { sql: `SELECT ${COMPILE_CONTEXT.securityContext.t}` });" }],
      { contextToAppId: () => 42 },
    );
    await expect(badId.modelFor({ t: 1 })).rejects.toThrow('contextToAppId must return a non-empty app id string');
  });
});
