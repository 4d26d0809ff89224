/**
 * /meta: the cubes and the members a caller may see, in Cube's shape.
 */
import type { Cube, Dimension, Member, Model } from '../schema/model.js';

/** Cube numbers connected components of the undirected join graph from 1. */
function connectedComponents(model: Model): Map<string, number> {
  const neighbours = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!neighbours.has(a)) neighbours.set(a, new Set());
    neighbours.get(a)?.add(b);
  };
  for (const cube of model.cubes.values()) {
    link(cube.name, cube.name);
    for (const j of cube.joins) {
      link(j.from, j.to);
      link(j.to, j.from);
    }
  }
  const component = new Map<string, number>();
  let next = 1;
  for (const name of model.cubes.keys()) {
    if (component.has(name)) continue;
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

export function buildMeta(model: Model, allowed?: ReadonlySet<string>): { cubes: unknown[] } {
  const components = connectedComponents(model);
  const cubes: unknown[] = [];
  for (const cube of model.cubes.values()) {
    if (!cube.public) continue;
    const shows = (m: Member) => m.public && (!allowed || allowed.has(`${cube.name}.${m.name}`));
    const measures = [...cube.measures.values()].filter(shows).map((m) => ({
      ...common(m, cube),
      type: m.type === 'string' || m.type === 'time' || m.type === 'boolean' ? m.type : 'number',
      aggType: m.aggType ?? m.type,
      cumulative: m.rollingWindow !== undefined,
      cumulativeTotal: m.rollingWindow !== undefined && m.rollingWindow.trailing === 'unbounded',
      drillMembers: [...m.drillMembers],
      drillMembersGrouped: {
        measures: m.drillMembers.filter((d) => cube.measures.has(d.slice(d.indexOf('.') + 1)) && d.startsWith(`${cube.name}.`)),
        dimensions: m.drillMembers.filter((d) => !(cube.measures.has(d.slice(d.indexOf('.') + 1)) && d.startsWith(`${cube.name}.`))),
      },
    }));
    const dimensions = [...cube.dimensions.values()].filter(shows).map((d) => ({
      ...common(d, cube),
      type: d.type,
      ...granularitiesOf(d),
      suggestFilterValues: true,
      ...(d.primaryKey ? { primaryKey: true } : {}),
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
      connectedComponent: components.get(cube.name),
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
