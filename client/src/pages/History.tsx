import { useSearchParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, Match, on, Show, Switch } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { HistoryFilter, type HistoryPlace } from '../components/HistoryFilter.tsx';
import { type SessionListing, SessionTable } from '../components/SessionTable.tsx';
import { trpc } from '../trpc.ts';

const pageSize = 50;

/** Upload sessions of the company, newest first, by project and cycle; older ones a page at a time. */
export function History() {
  const [params, setParams] = useSearchParams<{ projectId?: string; cycleId?: string }>();
  const place = (): HistoryPlace => ({
    projectId: params.projectId || undefined,
    cycleId: params.cycleId || undefined,
  });
  const [newest, { refetch }] = createResource(place, (where) =>
    trpc.sessions.list.query({ ...where, limit: pageSize }),
  );
  const [older, setOlder] = createSignal<SessionListing[][]>([]);
  const [olderError, setOlderError] = createSignal<unknown>();
  const [loadingOlder, setLoadingOlder] = createSignal(false);
  createEffect(
    on([() => params.projectId, () => params.cycleId], () => {
      setOlder([]);
      setOlderError(undefined);
    }),
  );

  const sessions = () => [...(newest.latest ?? []), ...older().flat()];
  const lastPage = () => older().at(-1) ?? newest.latest ?? [];

  const loadOlder = async () => {
    const where = place();
    const before = sessions().at(-1)?.cursor;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await trpc.sessions.list.query({ ...where, before, limit: pageSize });
      // The filter may have changed while the page was on its way: then it belongs to nothing shown.
      if (JSON.stringify(where) === JSON.stringify(place())) setOlder([...older(), page]);
    } catch (caught) {
      setOlderError(caught);
    } finally {
      setLoadingOlder(false);
    }
  };

  const reload = () => {
    setOlder([]);
    refetch();
  };

  return (
    <>
      <div class="toolbar">
        <h1>Upload history</h1>
        <button type="button" onClick={reload} disabled={newest.loading}>
          {newest.loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      <HistoryFilter
        place={place()}
        onChange={(next) => setParams({ projectId: next.projectId, cycleId: next.cycleId })}
      />
      <Switch>
        <Match when={newest.error}>
          <ErrorMessage error={newest.error} />
        </Match>
        <Match when={newest.loading && !newest.latest}>
          <p class="muted">Loading sessions…</p>
        </Match>
        <Match when={sessions().length === 0}>
          <p class="notice">No uploads here yet.</p>
        </Match>
        <Match when={sessions().length > 0}>
          <SessionTable sessions={sessions()} />
          <div class="pager">
            <Show when={lastPage().length === pageSize} fallback={<span class="muted">No older sessions.</span>}>
              <button type="button" onClick={loadOlder} disabled={loadingOlder()}>
                {loadingOlder() ? 'Loading…' : 'Older'}
              </button>
            </Show>
            <ErrorMessage error={olderError()} />
          </div>
        </Match>
      </Switch>
    </>
  );
}
