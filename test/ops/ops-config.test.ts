/** The operations options: validated once at start-up, naming the bad option. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const load = (env: Record<string, string>) => loadConfig({ env: { CUBEJS_API_SECRET: 's', ...env }, cwd: mkdtempSync(path.join(tmpdir(), 'tessera-ops-cfg-')) });

describe('operations options', () => {
  it('leaves row-level security and the audit log off by default', async () => {
    const c = await load({});
    expect(c.database.rowLevelSecurity).toBe(false);
    expect(c.database.rlsRole).toBe('tessera_query');
    expect(c.audit).toEqual({ target: { kind: 'off' }, claimValues: [] });
  });

  it('reads TESSERA_DB_RLS, its role, and every audit target', async () => {
    const c = await load({ TESSERA_DB_RLS: 'on', TESSERA_DB_RLS_ROLE: 'app_reader', TESSERA_AUDIT: 'file:logs/audit.jsonl', TESSERA_AUDIT_CLAIM_VALUES: 'tenant_id, sub' });
    expect(c.database).toMatchObject({ rowLevelSecurity: true, rlsRole: 'app_reader' });
    expect(c.audit?.target).toEqual({ kind: 'file', path: path.join(path.dirname(c.schemaPath), 'logs', 'audit.jsonl') });
    expect(c.audit?.claimValues).toEqual(['tenant_id', 'sub']);
    expect((await load({ TESSERA_AUDIT: 'postgres' })).audit?.target).toEqual({ kind: 'postgres' });
    expect((await load({ TESSERA_AUDIT: 'stdout' })).audit?.target).toEqual({ kind: 'stdout' });
  });

  it('refuses malformed values, naming the option', async () => {
    await expect(load({ TESSERA_DB_RLS: 'maybe' })).rejects.toThrow('Invalid configuration option TESSERA_DB_RLS: must be on or off');
    await expect(load({ TESSERA_DB_RLS_ROLE: 'x; drop role y' })).rejects.toThrow(/TESSERA_DB_RLS_ROLE: must be a role name/);
    await expect(load({ TESSERA_AUDIT: 'syslog' })).rejects.toThrow('Invalid configuration option TESSERA_AUDIT: must be stdout, file:<path>, postgres or off');
  });
});
