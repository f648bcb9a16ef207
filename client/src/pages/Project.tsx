import { A, useParams } from '@solidjs/router';
import { createResource, Match, Show, Switch } from 'solid-js';
import { CycleForm } from '../components/CycleForm.tsx';
import { CycleTable } from '../components/CycleTable.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { ProjectDetails } from '../components/ProjectDetails.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { WebhookForm } from '../components/WebhookForm.tsx';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';

/** One project: where its files go, its cycles with their totals, and (for admins) the controls to run them. */
export function Project() {
  const params = useParams<{ projectId: string }>();
  const [project, { refetch }] = createResource(
    () => params.projectId,
    (id) => trpc.projects.get.query({ id }),
  );
  // Totals add up the ledger, which takes longer than the project itself: they fill in when they come.
  const [totals, { refetch: refetchTotals }] = createResource(
    () => params.projectId,
    (projectId) => trpc.cycles.totals.query({ projectId }),
  );
  const changed = () => {
    refetch();
    refetchTotals();
  };

  return (
    <>
      <p class="breadcrumbs">
        <A href="/">Projects</A> ›
      </p>
      <Switch>
        <Match when={project.error}>
          <h1>Project</h1>
          <ErrorMessage error={project.error} />
        </Match>
        <Match when={project.latest}>
          {(current) => (
            <>
              <div class="toolbar">
                <h1>
                  {current().name}{' '}
                  <Show when={current().archivedAt}>
                    <StatusBadge status="archived" />
                  </Show>
                </h1>
                <A class="button" href={`/history?projectId=${current().id}`}>
                  Upload history
                </A>
                <A class="button" href={`/projects/${current().id}/insight`}>
                  Insight
                </A>
              </div>
              <Show when={current().archivedAt}>
                <p class="notice">This project is archived: its cycles take no more uploads and no new cycles.</p>
              </Show>
              <ProjectDetails
                project={current()}
                hasFiles={Boolean(totals.latest?.some((cycle) => cycle.filesTotal > 0))}
                onChanged={changed}
              />
              <h2>Cycles</h2>
              <Show when={allowed('cycles.create') && !current().archivedAt}>
                <CycleForm projectId={current().id} cycles={current().cycles} onCreated={changed} />
              </Show>
              <ErrorMessage error={totals.error} />
              <Show
                when={current().cycles.length > 0}
                fallback={<p class="notice">No cycles yet. Uploads go into a cycle, so an admin opens one first.</p>}
              >
                <CycleTable
                  cycles={current().cycles}
                  totals={totals.error ? undefined : totals.latest}
                  archived={Boolean(current().archivedAt)}
                  onChanged={changed}
                />
              </Show>
              <Show when={allowed('projects.setWebhook')}>
                <WebhookForm projectId={current().id} url={current().webhookUrl} onChanged={changed} />
              </Show>
            </>
          )}
        </Match>
        <Match when={project.loading}>
          <p class="muted">Loading the project…</p>
        </Match>
      </Switch>
    </>
  );
}
