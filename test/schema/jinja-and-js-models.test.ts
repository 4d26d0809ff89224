import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors/engine-error.js';
import { loadModelFromSources, type ModelSource } from '../../src/schema/load-model.js';
import { compileModelSourcesAsync } from '../../src/schema/load/compile-sources.js';
import { compileContextOf } from '../../src/schema/load/compile-context.js';
import { modelErrorOf } from './model-error-of.js';
import { recordingContext } from './recording-context.js';

const file = (fileName: string, content: string): ModelSource => ({ fileName, content });

describe('Jinja in YAML model files', () => {
  const macros = file(
    'macros/m.jinja',
    `{%- macro count_of(status) -%}
- name: {{ status }}_count
  type: count
  filters:
    - sql: "{CUBE}.status = '{{ status }}'"
{%- endmacro -%}`,
  );

  it('renders set, for, if and imported macros before reading the YAML', () => {
    const model = loadModelFromSources([
      macros,
      file(
        'cubes/orders.yml',
        `{% import 'macros/m.jinja' as m %}
{% set statuses = ['completed', 'shipped'] %}
cubes:
  - name: orders
    sql_table: tessera_demo.orders
    measures:
{% for s in statuses %}
      {{ m.count_of(s) | indent(6) }}
{% endfor %}
{% if statuses | length > 1 %}
      - name: all_count
        type: count
{% endif %}
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
`,
      ),
    ]);
    const orders = model.cubes.get('orders')!;
    expect([...orders.measures.keys()]).toEqual(['completed_count', 'shipped_count', 'all_count']);
    expect(orders.measures.get('shipped_count')!.filters[0]!(recordingContext().ctx)).toBe(`"orders".status = 'shipped'`);
  });

  it('leaves Cube single-brace references alone and Python string methods work', () => {
    const model = loadModelFromSources([
      file(
        'o.yml',
        `cubes:
  - name: o
    sql_table: t
    dimensions:
{% for c in ['id', 'status_id', 'status'] %}
      - name: {{ c }}
        sql: "{CUBE}.{{ c }}"
        type: {{ 'number' if c.endswith('id') else 'string' }}
{% endfor %}
`,
      ),
    ]);
    const o = model.cubes.get('o')!;
    expect([...o.dimensions.values()].map((d) => `${d.name}:${d.type}:${d.sql(recordingContext().ctx)}`)).toEqual([
      'id:number:"o".id',
      'status_id:number:"o".status_id',
      'status:string:"o".status',
    ]);
  });

  it('offers the standard Jinja filters and Python methods model files use', () => {
    const model = loadModelFromSources([
      file(
        'o.yml',
        `{%- set columns = {'status': 'string', 'amount': 'number'} -%}
cubes:
  - name: {{ "%s_%s" | format('sales', 'orders') }}
    sql_table: {{ ['tessera_demo', 'orders'] | join('.') | lower }}
    dimensions:
{%- for name, type in columns.items() %}
      - name: {{ name | replace('-', '_') }}
        sql: "{% raw %}{CUBE}{% endraw %}.{{ name }}"
        type: {{ type | default('string') }}
{%- endfor %}
    measures:
{%- for i in range(2) %}
      - name: m{{ loop.index }}
        type: count
{%- endfor %}
`,
      ),
    ]);
    const cube = model.cubes.get('sales_orders')!;
    expect(cube.source.sql(recordingContext().ctx)).toBe('tessera_demo.orders');
    // minijinja iterates a dict in key order, where Python keeps insertion order.
    expect([...cube.dimensions.keys(), ...cube.measures.keys()]).toEqual(['amount', 'status', 'm1', 'm2']);
    expect(cube.dimensions.get('amount')!.sql(recordingContext().ctx)).toBe('"sales_orders".amount');
  });

  it('loads a folder with Python helpers when no template calls them', () => {
    const model = loadModelFromSources([
      file('globals.py', "from cube import TemplateContext\ntemplate = TemplateContext()\n\n@template.function('masked')\ndef masked(c):\n    return c\n"),
      file('o.yml', 'cubes:\n  - name: o\n    sql_table: t\n    dimensions:\n      - { name: id, sql: id, type: number, primary_key: true }\n'),
    ]);
    expect([...model.cubes.keys()]).toEqual(['o']);
  });

  it('refuses a file whose Jinja calls a Python function, naming the .py file and the function', () => {
    const errors: ModelError[] = [];
    loadModelFromSources(
      [
        file('model/globals.py', "@template.function('masked')\ndef masked(c):\n    return c\n\n@template.filter\ndef shout(x):\n    return x\n"),
        file('o.yml', "cubes:\n  - name: o\n    sql_table: t\n    dimensions:\n      - name: id\n        sql: \"{{ masked('id') }}\"\n        type: number\n"),
        file('p.yml', "cubes:\n  - name: p\n    sql_table: {{ 'x' | shout }}\n"),
      ],
      { errors },
    );
    expect(errors.map((e) => e.message)).toEqual([
      "o.yml:6: uses the Python function 'masked' from model/globals.py, which Tessera cannot run; rewrite it as a Jinja macro",
      "p.yml:3: uses the Python filter 'shout' from model/globals.py, which Tessera cannot run; rewrite it as a Jinja macro",
    ]);
  });

  it('loads everything that does not depend on Python and names each file it leaves out', () => {
    const leftOut: ModelError[] = [];
    const model = loadModelFromSources(
      [
        file('globals.py', "@template.function('dbt_model')\ndef dbt_model(n):\n    return n\n"),
        file('a.yml', "{% set m = dbt_model('orders') %}\ncubes:\n  - name: a\n    sql_table: '{{ m.table }}'\n"),
        file('b.yml', 'cubes:\n  - name: b\n    sql_table: public.b\n'),
      ],
      { onFileLeftOut: (e) => leftOut.push(e) },
    );
    expect([...model.cubes.keys()]).toEqual(['b']);
    expect(leftOut.map((e) => e.message)).toEqual([
      "a.yml:1: uses the Python function 'dbt_model' from globals.py, which Tessera cannot run; rewrite it as a Jinja macro",
    ]);
  });

  it('names the file and line of a Jinja syntax error and of a missing import', () => {
    expect(modelErrorOf([file('o.yml', 'cubes:\n  - name: o\n    sql_table: {{ t( }}\n')]).message).toMatch(/^o\.yml:3: Jinja error: syntax error/);
    expect(modelErrorOf([file('o.yml', "{% import 'nope.jinja' as n %}\ncubes: []\n")]).message).toMatch(/^o\.yml:1: Jinja error: template not found/);
  });

  it('keeps working after a template error (a fresh engine per file)', () => {
    const errors: ModelError[] = [];
    const model = loadModelFromSources(
      [file('a.yml', '{{ broken( }}'), file('b.yml', 'cubes:\n  - name: b\n    sql_table: {{ "t" | upper }}\n')],
      { errors },
    );
    expect(errors).toHaveLength(1);
    expect(model.cubes.get('b')!.source.sql(recordingContext().ctx)).toBe('T');
  });

  it('renders COMPILE_CONTEXT values that are plain identifiers and refuses any other value', async () => {
    const files = [file('o.yml', 'cubes:\n  - name: o\n    sql_table: "{{ COMPILE_CONTEXT.securityContext.schema }}.orders"\n')];
    const ok = await compileModelSourcesAsync(files, { compileContext: compileContextOf({ schema: 'tenant_7' }) });
    expect(ok.cubes.get('o')!.source.sql(recordingContext().ctx)).toBe('tenant_7.orders');
    await expect(compileModelSourcesAsync(files, { compileContext: compileContextOf({ schema: "x; DROP TABLE users; --" }) })).rejects.toThrow(
      'o.yml:3: COMPILE_CONTEXT.securityContext.schema is not a plain identifier or number, so it cannot be written into SQL',
    );
  });
});

describe('JavaScript model files', () => {
  it('imports and exports helpers between files of the model folder (ES modules)', () => {
    const model = loadModelFromSources([
      file('helpers/sql.js', "export const TABLE = 'tessera_demo.orders';\nexport default function money(c) { return { sql: (CUBE) => `${CUBE}.${c}`, type: 'sum' }; }\n"),
      file('orders.js', "import money, { TABLE as table } from './helpers/sql';\ncube('orders', { sql_table: table, measures: { total: money('amount') } });\n"),
    ]);
    expect(model.cubes.get('orders')!.source.sql(recordingContext().ctx)).toBe('tessera_demo.orders');
    expect(model.cubes.get('orders')!.measures.get('total')!.sql!(recordingContext().ctx)).toBe('"orders".amount');
  });

  it('requires files of the model folder and safe built-ins, and refuses anything else', () => {
    const model = loadModelFromSources([
      file('lib/names.js', "module.exports = { table: require('node:path').posix.join('public', 'users') };"),
      file('users.js', "const { table } = require('./lib/names');\ncube('users', { sql: `SELECT * FROM ${table}` });"),
    ]);
    expect(model.cubes.get('users')!.source.sql(recordingContext().ctx)).toBe('SELECT * FROM public/users');
    expect(modelErrorOf([file('a.js', "require('child_process');")]).message).toMatch(/^a\.js: require\('child_process'\) is not allowed/);
    expect(modelErrorOf([file('a.js', "require('../outside');")]).message).toBe("a.js: require('../outside') points outside the model folder");
    expect(modelErrorOf([file('a.js', "require('./missing');")]).message).toBe("a.js: require('./missing'): no such model file");
  });

  it('waits for asyncModule definitions when loading asynchronously and says so when it cannot', async () => {
    const files = [
      file(
        'gen.js',
        "asyncModule(async () => { const names = await Promise.resolve(['a', 'b']); for (const n of names) cube(n, { sql_table: `public.${n}` }); });",
      ),
    ];
    const model = await compileModelSourcesAsync(files);
    expect([...model.cubes.keys()]).toEqual(['a', 'b']);
    expect(modelErrorOf(files).message).toBe('gen.js: asyncModule() needs the asynchronous loader (loadModel)');
  });

  it('accepts sql given as an arrow function, a function expression, or a function from a helper', () => {
    const model = loadModelFromSources([
      file(
        'o.js',
        `const col = (name) => (CUBE) => \`\${CUBE}.\${name}\`;
cube('o', {
  sql_table: 't',
  dimensions: {
    a: { sql: () => \`\${CUBE}.a\`, type: 'string' },
    b: { sql: (CUBE) => \`\${CUBE}.b\`, type: 'string' },
    c: { sql: function () { return \`\${CUBE}.c\`; }, type: 'string' },
    d: { ...{ sql: col('d') }, type: 'string' },
  },
});`,
      ),
    ]);
    const { ctx } = recordingContext();
    expect([...model.cubes.get('o')!.dimensions.values()].map((d) => d.sql(ctx))).toEqual(['"o".a', '"o".b', '"o".c', '"o".d']);
  });

  it('reads COMPILE_CONTEXT at load time and refuses a value that would inject SQL', async () => {
    const files = [file('o.js', "const { securityContext: sc } = COMPILE_CONTEXT;\ncube(`o_${sc.tenant}`, { sql: `SELECT * FROM t WHERE tenant = ${sc.tenant}` });")];
    const model = await compileModelSourcesAsync(files, { compileContext: compileContextOf({ tenant: 'acme' }) });
    expect(model.cubes.get('o_acme')!.source.sql(recordingContext().ctx)).toBe('SELECT * FROM t WHERE tenant = acme');
    await expect(compileModelSourcesAsync(files, { compileContext: compileContextOf({ tenant: "1' OR '1'='1" }) })).rejects.toThrow(
      /COMPILE_CONTEXT\.securityContext\.tenant is not a plain identifier or number/,
    );
  });

  it('keeps line numbers of ES-module files unchanged by the import rewrite', () => {
    const error = modelErrorOf([
      file('h.js', 'export const x = 1;'),
      file('o.js', "import {\n  x,\n} from './h';\n\ncube('o', {\n  sql_table: 't',\n  measures: {\n    bad: { type: 'sum' },\n  },\n});"),
    ]);
    expect(error.message).toBe('o.js:8: o.bad: sql is required for a sum measure');
  });
});
