import type { Api } from '../driver/api.ts';
import { usageError } from './errors.ts';

export type Project = Awaited<ReturnType<Api['projects']['list']['query']>>[number];
export type Cycle = Awaited<ReturnType<Api['cycles']['list']['query']>>[number];

/** One entry by id or by name (names case-insensitively); a miss or a tie names the choices. */
export function pick<T extends { id: string; name: string }>(
  kind: string,
  wanted: string,
  items: T[],
  describe: (item: T) => string = (item) => item.name,
): T {
  const byId = items.find((item) => item.id === wanted);
  if (byId) return byId;
  const named = items.filter((item) => item.name.toLowerCase() === wanted.trim().toLowerCase());
  if (named.length === 1) return named[0] as T;
  const choices = (list: T[]) => list.map((item) => `  ${describe(item)} (${item.id})`).join('\n');
  if (named.length > 1) {
    throw usageError(`${kind} "${wanted}" is ambiguous; use the id of one of:\n${choices(named)}`);
  }
  if (items.length === 0) throw usageError(`${kind} "${wanted}" not found: there is none you can see.`);
  throw usageError(`${kind} "${wanted}" not found. Choices:\n${choices(items)}`);
}

export async function resolveProject(api: Api, wanted: string): Promise<Project> {
  return pick('Project', wanted, await api.projects.list.query({ includeArchived: false }), (p) => p.name);
}

export async function resolveCycle(api: Api, project: Project, wanted: string): Promise<Cycle> {
  const cycles = await api.cycles.list.query({ projectId: project.id });
  return pick('Cycle', wanted, cycles, (c) => `${c.name} [${c.status}]`);
}

const trimSlashes = (prefix: string) => prefix.replace(/^\/+|\/+$/g, '');

/** A job file's bucket (and region) → the project that writes to it. */
export async function projectByBucket(api: Api, bucket: string, region?: string): Promise<Project> {
  const projects = await api.projects.list.query({ includeArchived: false });
  const matching = projects.filter((p) => p.bucket === bucket && (!region || p.region === region));
  if (matching.length === 1) return matching[0] as Project;
  const list = (items: Project[]) => items.map((p) => `  ${p.name}: ${p.bucket} (${p.region})`).join('\n');
  if (matching.length > 1) {
    throw usageError(`Several projects write to bucket ${bucket}; add "project" to the job file:\n${list(matching)}`);
  }
  throw usageError(
    `No project writes to bucket ${bucket}${region ? ` in ${region}` : ''}. Projects:\n${list(projects)}`,
  );
}

/** A job file's s3_prefix → the cycle with that prefix (the project's own key prefix may stand before it). */
export async function cycleByPrefix(api: Api, project: Project, prefix: string): Promise<Cycle> {
  const cycles = await api.cycles.list.query({ projectId: project.id });
  const wanted = trimSlashes(prefix);
  const projectPrefix = trimSlashes(project.keyPrefix ?? '');
  const matching = cycles.filter(
    (c) => trimSlashes(c.s3Prefix) === wanted || (projectPrefix && `${projectPrefix}/${c.s3Prefix}` === wanted),
  );
  if (matching.length === 1) return matching[0] as Cycle;
  const list = cycles.map((c) => `  ${c.name}: ${c.s3Prefix}`).join('\n');
  throw usageError(`No cycle of ${project.name} has the prefix "${prefix}". Cycles:\n${list}`);
}
