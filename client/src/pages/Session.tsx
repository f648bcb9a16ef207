import { A, useParams } from '@solidjs/router';
import { createEffect, createMemo, createResource, Match, onCleanup, Show, Switch } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { SessionFiles } from '../components/SessionFiles.tsx';
import { SessionStats } from '../components/SessionStats.tsx';
import { ThroughputChart } from '../components/ThroughputChart.tsx';
import { trpc } from '../trpc.ts';

/** How often a running session's counters are read again. */
const refreshMs = 5000;

/** One upload session: its counters, how far it got, and its files. */
export function Session() {
  const params = useParams<{ sessionId: string }>();
  const [session, { refetch }] = createResource(
    () => params.sessionId,
    (id) => trpc.sessions.get.query({ id }),
  );
  createEffect(() => {
    if (session.latest?.status !== 'active') return;
    const timer = setInterval(() => refetch(), refreshMs);
    onCleanup(() => clearInterval(timer));
  });
  const projectId = createMemo(() => session.latest?.projectId);
  const [project] = createResource(projectId, (id) => trpc.projects.get.query({ id }));
  const cycleName = () => project.latest?.cycles.find((cycle) => cycle.id === session.latest?.cycleId)?.name;

  return (
    <>
      <p class="breadcrumbs">
        <A href="/">Projects</A> ›{' '}
        <Show when={project.latest}>
          {(current) => (
            <>
              <A href={`/projects/${current().id}`}>{current().name}</A> ›{' '}
              <A href={`/history?projectId=${current().id}&cycleId=${session.latest?.cycleId}`}>
                {cycleName() ?? 'cycle'} history
              </A>{' '}
              ›
            </>
          )}
        </Show>
      </p>
      <Switch>
        <Match when={session.error}>
          <h1>Upload session</h1>
          <ErrorMessage error={session.error} />
        </Match>
        <Match when={session.latest}>
          {(current) => (
            <>
              <h1>
                {current().label || 'Upload session'}
                <Show when={project.latest}>
                  <span class="muted">
                    {' '}
                    · {project.latest?.name} / {cycleName()}
                  </span>
                </Show>
              </h1>
              <SessionStats session={current()} />
              <ThroughputChart sessionId={current().id} filesDone={current().filesDone} />
              <SessionFiles sessionId={current().id} />
            </>
          )}
        </Match>
        <Match when={session.loading}>
          <p class="muted">Loading the session…</p>
        </Match>
      </Switch>
    </>
  );
}
