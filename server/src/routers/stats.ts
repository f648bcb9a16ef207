import { schema, sqlRows } from '@data-uploader/drizzle';
import { coverageInput, projectStatsInput, sessionThroughputInput, topLevel } from '@data-uploader/shared';
import { TRPCError } from '@trpc/server';
import { type SQL, sql } from 'drizzle-orm';
import { loadCycle, loadProject } from '../services/access.ts';
import { loadUploadSession } from '../services/uploadSessions.ts';
import { authedProcedure, router } from '../trpc.ts';

const { cycles, files } = schema;

/** The ledger rows of a project's cycles (the files table has no project column). */
const projectFiles = (projectId: string) =>
  sql`${files.cycleId} in (select ${cycles.id} from ${cycles} where ${cycles.projectId} = ${projectId})`;

const arrived = sql`${files.status} = 'completed'`;
/** Days are grouped as dates and formatted after grouping: `to_char` per row tripled the time at 1M rows. */
const utcDate = (time: SQL) => sql`((${time}) at time zone 'UTC')::date`;
const isoDay = sql`to_char(g.day, 'YYYY-MM-DD')`;

/** The sensor of a ledger row: its serial, else its first folder (rows from before serials were kept). */
const sensor = sql`coalesce(${files.sensorSerial},
  case when strpos(${files.relativePath}, '/') > 0 then split_part(${files.relativePath}, '/', 1) end, ${topLevel})`;

/** The day a file was recorded: the time in its name, else its last-modified time, else when it arrived. */
const recordedDate = utcDate(sql`coalesce(${files.recordedAt}, ${files.lastModified}, ${files.completedAt})`);

/** The last dot-part of the file name, lower case; `split_part` rather than a regular expression, 3× faster. */
const fileName = sql`split_part(${files.relativePath}, '/', -1)`;
const extension = sql`coalesce(lower(nullif(case when strpos(${fileName}, '.') > 0 then split_part(${fileName}, '.', -1) end, '')), '(none)')`;

/**
 * Results are put in order here rather than by ORDER BY: with one, PostgreSQL sorted the million input rows
 * to group them (it cannot tell how few sensor-days there are), twice as slow as hashing them.
 */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Aggregates for the insight charts, computed by PostgreSQL (GROUP BY) over the ledger. Counts come back as
 * int and byte sums as float8, so the driver hands over numbers rather than bigint strings.
 */
export const statsRouter = router({
  /** Files and bytes per cycle: planned (every ledger row) against arrived (completed). */
  projectCycles: authedProcedure.input(projectStatsInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    return sqlRows<{
      cycleId: string;
      name: string;
      filesPlanned: number;
      bytesPlanned: number;
      filesArrived: number;
      bytesArrived: number;
      filesFailed: number;
    }>(
      ctx.db,
      sql`select c.id as "cycleId", c.name,
        count(f.id)::int as "filesPlanned", coalesce(sum(f.size), 0)::float8 as "bytesPlanned",
        (count(*) filter (where f.status = 'completed'))::int as "filesArrived",
        coalesce(sum(f.size) filter (where f.status = 'completed'), 0)::float8 as "bytesArrived",
        (count(*) filter (where f.status = 'failed'))::int as "filesFailed"
      from ${cycles} c left join ${files} f on f.cycle_id = c.id
      where c.project_id = ${project.id}
      group by c.id order by c.created_at, c.name`,
    );
  }),

  /** Files and bytes a session completed per minute, from its first to its last completion, quiet minutes as 0. */
  sessionThroughput: authedProcedure.input(sessionThroughputInput).query(async ({ ctx, input }) => {
    const session = await loadUploadSession(ctx, input.sessionId);
    return sqlRows<{ minute: string; files: number; bytes: number }>(
      ctx.db,
      sql`with done as (
        select date_trunc('minute', ${files.completedAt}) as minute, count(*)::int as files, sum(${files.size})::float8 as bytes
        from ${files} where ${files.sessionId} = ${session.id} and ${arrived} and ${files.completedAt} is not null
        group by 1
      ), span as (select min(minute) as first, max(minute) as last from done)
      select to_char(m at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:00"Z"') as minute,
        coalesce(d.files, 0)::int as files, coalesce(d.bytes, 0)::float8 as bytes
      from span cross join generate_series(span.first, span.last, interval '1 minute') m
      left join done d on d.minute = m
      order by m`,
    );
  }),

  /** Completed and failed files per UTC day: completion day, or the last attempt for failures. */
  successRate: authedProcedure.input(projectStatsInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    const when = sql`case when ${arrived} then coalesce(${files.completedAt}, ${files.claimedAt}) else ${files.claimedAt} end`;
    const days = await sqlRows<{ day: string; completed: number; failed: number }>(
      ctx.db,
      sql`select ${isoDay} as day, g.completed, g.failed from (
        select ${utcDate(when)} as day, (count(*) filter (where ${arrived}))::int as completed,
          (count(*) filter (where ${files.status} = 'failed'))::int as failed
        from ${files} where ${projectFiles(project.id)} and ${files.status} in ('completed', 'failed')
        group by 1
      ) g`,
    );
    return days.sort((a, b) => byText(a.day, b.day));
  }),

  /** Files and bytes per extension (lower case), planned and arrived, most files first. */
  fileTypes: authedProcedure.input(projectStatsInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    const types = await sqlRows<{
      extension: string;
      files: number;
      bytes: number;
      filesArrived: number;
      bytesArrived: number;
    }>(
      ctx.db,
      sql`select ${extension} as extension, count(*)::int as files, sum(${files.size})::float8 as bytes,
        (count(*) filter (where ${arrived}))::int as "filesArrived",
        coalesce(sum(${files.size}) filter (where ${arrived}), 0)::float8 as "bytesArrived"
      from ${files} where ${projectFiles(project.id)}
      group by 1`,
    );
    return types.sort((a, b) => b.files - a.files || byText(a.extension, b.extension));
  }),

  /** Files that arrived per sensor per recording day: the field campaign's coverage, gaps included. */
  coverage: authedProcedure.input(coverageInput).query(async ({ ctx, input }) => {
    const project = await loadProject(ctx, input.projectId);
    if (input.cycleId) {
      const cycle = await loadCycle(ctx, input.cycleId);
      if (cycle.projectId !== project.id) throw new TRPCError({ code: 'NOT_FOUND', message: 'Cycle not found' });
    }
    const scope = input.cycleId ? sql`${files.cycleId} = ${input.cycleId}` : projectFiles(project.id);
    const cells = await sqlRows<{ sensor: string; day: string; files: number; bytes: number }>(
      ctx.db,
      sql`select g.sensor, ${isoDay} as day, g.files, g.bytes from (
        select ${sensor} as sensor, ${recordedDate} as day, count(*)::int as files, sum(${files.size})::float8 as bytes
        from ${files} where ${scope} and ${arrived}
        group by 1, 2
      ) g`,
    );
    return cells.sort((a, b) => byText(a.sensor, b.sensor) || byText(a.day, b.day));
  }),
});
