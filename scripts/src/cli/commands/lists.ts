import { connect, type GlobalFlags } from '../client.ts';
import { explain } from '../errors.ts';
import { formatBytes, formatDuration, table } from '../format.ts';
import { printJson } from '../progress.ts';
import { resolveCycle, resolveProject } from '../resolve.ts';

type Flags = GlobalFlags & { json?: boolean };

export async function projects(flags: Flags) {
  const { api, server } = await connect(flags);
  const list = await api.projects.list
    .query({ includeArchived: false })
    .catch((e) => Promise.reject(explain(e, server)));
  if (flags.json) return printJson({ type: 'projects', projects: list });
  process.stdout.write(
    `${table(
      ['NAME', 'BUCKET', 'REGION', 'CYCLES', 'ID'],
      list.map((p) => [p.name, p.bucket, p.region, String(p.cycles), p.id]),
    )}\n`,
  );
}

export async function cycles(flags: Flags & { project: string }) {
  const { api, server } = await connect(flags);
  try {
    const project = await resolveProject(api, flags.project);
    const list = await api.cycles.list.query({ projectId: project.id });
    if (flags.json) return printJson({ type: 'cycles', project: project.name, cycles: list });
    process.stdout.write(
      `${table(
        ['NAME', 'PREFIX', 'STATUS', 'ID'],
        list.map((c) => [c.name, c.s3Prefix, c.status, c.id]),
      )}\n`,
    );
  } catch (error) {
    throw explain(error, server);
  }
}

export async function sessions(flags: Flags & { project?: string; cycle?: string; limit: number }) {
  const { api, server } = await connect(flags);
  try {
    const project = flags.project ? await resolveProject(api, flags.project) : undefined;
    const cycle = project && flags.cycle ? await resolveCycle(api, project, flags.cycle) : undefined;
    const list = await api.sessions.list.query({ projectId: project?.id, cycleId: cycle?.id, limit: flags.limit });
    if (flags.json) return printJson({ type: 'sessions', sessions: list });
    process.stdout.write(
      `${table(
        ['STARTED', 'SOURCE', 'USER', 'STATUS', 'FILES', 'SKIPPED', 'FAILED', 'BYTES', 'TIME', 'LABEL', 'ID'],
        list.map((s) => [
          new Date(s.startedAt).toISOString().slice(0, 16).replace('T', ' '),
          s.source,
          s.username,
          s.status,
          `${s.filesDone}/${s.filesTotal}`,
          String(s.filesSkipped),
          String(s.filesFailed),
          formatBytes(s.bytesDone),
          formatDuration(s.durationSeconds),
          s.label,
          s.id,
        ]),
      )}\n`,
    );
  } catch (error) {
    throw explain(error, server);
  }
}
