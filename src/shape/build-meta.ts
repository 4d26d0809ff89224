/**
 * /meta: the cubes and the members a caller may see, in Cube's shape.
 */
import type { Cube, Dimension, Member, Model } from '../schema/model.js';

/**
 * Cube's JoinGraph.connectedComponents: cubes that declare joins are visited in model order, each
 * visit spends one component number (even when the cube was already reached), and a component
 * spreads over joins in both directions. Cubes in no join, and views, have none.
 */
function connectedComponents(model: Model): Map<string, number> {
  const neighbours = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!neighbours.has(a)) neighbours.set(a, new Set());
    neighbours.get(a)?.add(b);
  };
  const declaring: string[] = [];
  for (const cube of model.cubes.values()) {
    const joins = cube.joins.filter((j) => model.cubes.get(j.to)?.kind === 'cube');
    if (joins.length > 0) declaring.push(cube.name);
    for (const j of joins) {
      link(j.from, j.to);
      link(j.to, j.from);
    }
  }
  const component = new Map<string, number>();
  let next = 1;
  for (const name of declaring) {
    const stack = [name];
    while (stack.length > 0) {
      const at = stack.pop() as string;
      if (component.has(at)) continue;
      component.set(at, next);
      for (const n of neighbours.get(at) ?? []) if (!component.has(n)) stack.push(n);
    }
    next++;
  }
  return component;
}

function common(m: Member, cube: Cube) {
  const name = `${cube.name}.${m.name}`;
  return {
    name,
    title: m.title,
    shortTitle: m.shortTitle,
    ...(m.description ? { description: m.description } : {}),
    ...(m.format ? { format: m.format } : {}),
    ...(m.meta ? { meta: m.meta } : {}),
    isVisible: true,
    public: true,
  };
}

function kindOf(model: Model, member: string): 'measure' | 'dimension' | undefined {
  const cube = model.cubes.get(member.slice(0, member.indexOf('.')));
  const name = member.slice(member.indexOf('.') + 1);
  return cube?.measures.has(name) ? 'measure' : cube?.dimensions.has(name) ? 'dimension' : undefined;
}

/** A view member names the cube member it exposes, as Cube's `aliasMember`. */
function aliasMember(cube: Cube, name: string): { aliasMember?: string } {
  const target = cube.viewMembers?.get(name);
  return target ? { aliasMember: `${target.cube}.${target.member}` } : {};
}

/** A view member is shown only when the cube's policies allow the cube member it exposes too. */
function targetShows(view: Cube, name: string, allowed: ReadonlySet<string> | undefined): boolean {
  const target = view.viewMembers?.get(name);
  return !allowed || !target || allowed.has(`${target.cube}.${target.member}`);
}

export function buildMeta(model: Model, allowed?: ReadonlySet<string>): { cubes: unknown[] } {
  const components = connectedComponents(model);
  const cubes: unknown[] = [];
  for (const cube of model.cubes.values()) {
    if (!cube.public) continue;
    const shows = (m: Member) => m.public && (!allowed || allowed.has(`${cube.name}.${m.name}`)) && targetShows(cube, m.name, allowed);
    const measures = [...cube.measures.values()].filter(shows).map((m) => ({
      ...common(m, cube),
      type: m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? m.type : 'number',
      aggType: m.aggType ?? m.type,
      cumulative: m.rollingWindow !== undefined,
      // As Cube's CubeToMetaTransformer: both flags say "has a rolling window".
      cumulativeTotal: m.rollingWindow !== undefined,
      drillMembers: [...m.drillMembers],
      ...aliasMember(cube, m.name),
      drillMembersGrouped: {
        measures: m.drillMembers.filter((d) => kindOf(model, d) === 'measure'),
        dimensions: m.drillMembers.filter((d) => kindOf(model, d) === 'dimension'),
      },
    }));
    const dimensions = [...cube.dimensions.values()].filter(shows).map((d) => ({
      ...common(d, cube),
      type: d.type,
      ...granularitiesOf(d),
      suggestFilterValues: true,
      primaryKey: d.primaryKey,
      ...aliasMember(cube, d.name),
    }));
    const segments = [...cube.segments.values()].filter(shows).map((s) => common(s, cube));
    if (measures.length + dimensions.length + segments.length === 0) continue;
    cubes.push({
      name: cube.name,
      title: cube.title,
      type: cube.kind,
      ...(cube.description ? { description: cube.description } : {}),
      isVisible: true,
      public: true,
      ...(components.has(cube.name) ? { connectedComponent: components.get(cube.name) } : {}),
      ...(cube.meta ? { meta: cube.meta } : {}),
      measures,
      dimensions,
      segments,
      ...hierarchiesAndFolders(cube),
    });
  }
  return { cubes };
}

/** A time dimension's custom granularities, as Cube's /meta lists them. */
function granularitiesOf(d: Dimension): { granularities?: unknown[] } {
  if (!d.granularities) return {};
  return { granularities: [...d.granularities.values()].map((g) => ({ name: g.name, title: g.title, interval: g.interval, offset: g.offset, origin: g.origin })) };
}

/** `hierarchies` (named `cube.hierarchy`) and a view's `folders` with qualified member names, as Cube shows them. */
function hierarchiesAndFolders(cube: Cube): { hierarchies: unknown[]; folders: unknown[]; nestedFolders: unknown[] } {
  const folders = (cube.folders ?? []).map((f) => ({ name: f.name, members: f.members.map((m) => `${cube.name}.${m}`) }));
  return {
    hierarchies: (cube.hierarchies ?? []).map((h) => ({ name: `${cube.name}.${h.name}`, title: h.title, levels: [...h.levels], public: h.public })),
    folders,
    nestedFolders: folders,
  };
}
