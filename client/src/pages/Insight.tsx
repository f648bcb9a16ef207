import { A, useParams } from '@solidjs/router';
import { createResource, createSignal, For, Show } from 'solid-js';
import { BarChart } from '../components/BarChart.tsx';
import { CoverageHeatmap } from '../components/CoverageHeatmap.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TimeChart } from '../components/TimeChart.tsx';
import { formatBytes, formatCount } from '../format.ts';
import { trpc } from '../trpc.ts';

const planned = '#b9d8cd';
const arrived = '#1f6f5c';
const percent = (value: number) => `${Math.round(value)} %`;

/** What a project's campaign holds and what arrived: per cycle, per day, per file type, per sensor and day. */
export function Insight() {
  const params = useParams<{ projectId: string }>();
  const projectId = () => params.projectId;
  const [project] = createResource(projectId, (id) => trpc.projects.get.query({ id }));
  const [cycles] = createResource(projectId, (id) => trpc.stats.projectCycles.query({ projectId: id }));
  const [success] = createResource(projectId, (id) => trpc.stats.successRate.query({ projectId: id }));
  const [types] = createResource(projectId, (id) => trpc.stats.fileTypes.query({ projectId: id }));
  const [cycleId, setCycleId] = createSignal('');
  const [coverage] = createResource(
    () => ({ projectId: projectId(), cycleId: cycleId() || undefined }),
    (input) => trpc.stats.coverage.query(input),
  );

  return (
    <>
      <p class="breadcrumbs">
        <A href="/">Projects</A> › <A href={`/projects/${projectId()}`}>{project.latest?.name ?? 'Project'}</A> ›
      </p>
      <h1>Insight</h1>
      <ErrorMessage error={project.error ?? cycles.error ?? success.error ?? types.error} />
      <div class="charts">
        <Show when={cycles.latest}>
          {(rows) => (
            <>
              <BarChart
                title="Files per cycle"
                summary={rows()
                  .map((c) => `${c.name}: ${c.filesArrived} of ${c.filesPlanned} files arrived`)
                  .join('; ')}
                labelOf="Cycle"
                labels={rows().map((c) => c.name)}
                series={[
                  { label: 'Planned', values: rows().map((c) => c.filesPlanned), color: planned },
                  { label: 'Arrived', values: rows().map((c) => c.filesArrived), color: arrived },
                ]}
                format={formatCount}
              />
              <BarChart
                title="Bytes per cycle"
                summary={rows()
                  .map((c) => `${c.name}: ${formatBytes(c.bytesArrived)} of ${formatBytes(c.bytesPlanned)} arrived`)
                  .join('; ')}
                labelOf="Cycle"
                labels={rows().map((c) => c.name)}
                series={[
                  { label: 'Planned', values: rows().map((c) => c.bytesPlanned), color: planned },
                  { label: 'Arrived', values: rows().map((c) => c.bytesArrived), color: arrived },
                ]}
                format={formatBytes}
              />
            </>
          )}
        </Show>
        <Show when={success.latest}>
          {(days) => (
            <TimeChart
              title="Success rate per day"
              summary={days()
                .map((d) => `${d.day}: ${d.completed} completed, ${d.failed} failed`)
                .join('; ')}
              times={days().map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000)}
              yRange={[0, 100]}
              step={86_400}
              series={[
                {
                  label: 'Completed',
                  values: days().map((d) => (100 * d.completed) / Math.max(1, d.completed + d.failed)),
                  color: arrived,
                  format: percent,
                },
                {
                  label: 'Failed files',
                  values: days().map((d) => d.failed),
                  color: '#b3261e',
                  scale: 'y2',
                  bars: true,
                  format: formatCount,
                },
              ]}
            />
          )}
        </Show>
        <Show when={types.latest}>
          {(rows) => (
            <BarChart
              title="File types"
              summary={rows()
                .map((t) => `${t.extension}: ${t.filesArrived} of ${t.files} files arrived`)
                .join('; ')}
              labelOf="Type"
              labels={rows().map((t) => t.extension)}
              series={[
                { label: 'Planned', values: rows().map((t) => t.files), color: planned },
                { label: 'Arrived', values: rows().map((t) => t.filesArrived), color: arrived },
              ]}
              format={formatCount}
            />
          )}
        </Show>
      </div>
      <div class="toolbar">
        <h2>Coverage by sensor and day</h2>
        <label>
          Cycle{' '}
          <select value={cycleId()} onChange={(event) => setCycleId(event.currentTarget.value)}>
            <option value="">All cycles</option>
            <For each={project.latest?.cycles ?? []}>{(cycle) => <option value={cycle.id}>{cycle.name}</option>}</For>
          </select>
        </label>
      </div>
      <p class="muted">
        Files that arrived, by the day in their names (else their last-modified day). A hatched cell is a day a sensor
        sent nothing.
      </p>
      <ErrorMessage error={coverage.error} />
      <Show when={coverage.latest} fallback={<p class="muted">Loading the coverage…</p>}>
        {(cells) => <CoverageHeatmap cells={cells()} />}
      </Show>
    </>
  );
}
