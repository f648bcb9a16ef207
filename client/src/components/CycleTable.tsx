import { A } from '@solidjs/router';
import { For, Show } from 'solid-js';
import { formatBytes, formatCount, formatTime } from '../format.ts';
import { allowed } from '../permissions.ts';
import type { trpc } from '../trpc.ts';
import { CycleActions } from './CycleActions.tsx';
import { StatusBadge } from './StatusBadge.tsx';

export type Cycle = Awaited<ReturnType<typeof trpc.projects.get.query>>['cycles'][number];
export type CycleTotals = Awaited<ReturnType<typeof trpc.cycles.totals.query>>[number];

/** A project's cycles with what the ledger holds for each: files and bytes arrived of those planned. */
export function CycleTable(props: {
  cycles: Cycle[];
  totals: CycleTotals[] | undefined;
  archived: boolean;
  onChanged: () => void;
}) {
  const totalsOf = (cycleId: string) => props.totals?.find((totals) => totals.cycleId === cycleId);
  const canManage = () => allowed('cycles.close') || allowed('cycles.reopen');
  return (
    <div class="table-scroll">
      <table class="data-table">
        <thead>
          <tr>
            <th scope="col">Cycle</th>
            <th scope="col">Status</th>
            <th scope="col" class="number">
              Files arrived
            </th>
            <th scope="col" class="number">
              Bytes arrived
            </th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          <For each={props.cycles}>
            {(cycle) => (
              <tr>
                <td>
                  <strong>{cycle.name}</strong>
                  <small class="hint code">{cycle.s3Prefix}/</small>
                  <Show when={cycle.notes}>
                    <small class="hint">{cycle.notes}</small>
                  </Show>
                </td>
                <td>
                  <StatusBadge status={cycle.status} />
                </td>
                <td class="number">
                  <Show when={totalsOf(cycle.id)} fallback={<span class="muted">…</span>}>
                    {(totals) => (
                      <>
                        {formatCount(totals().filesCompleted)} <span class="muted">of</span>{' '}
                        {formatCount(totals().filesTotal)}
                        <Show when={totals().filesFailed > 0}>
                          <small class="hint error-text">{formatCount(totals().filesFailed)} failed</small>
                        </Show>
                      </>
                    )}
                  </Show>
                </td>
                <td class="number">
                  <Show when={totalsOf(cycle.id)} fallback={<span class="muted">…</span>}>
                    {(totals) => (
                      <>
                        {formatBytes(totals().bytesCompleted)} <span class="muted">of</span>{' '}
                        {formatBytes(totals().bytesTotal)}
                      </>
                    )}
                  </Show>
                </td>
                <td class="when">{formatTime(cycle.createdAt)}</td>
                <td class="cycle-actions">
                  <Show when={cycle.status === 'open' && !props.archived && allowed('uploads.begin')}>
                    <A
                      class="button primary"
                      href={`/projects/${cycle.projectId}/cycles/${cycle.id}/upload`}
                      aria-label={`Upload to cycle ${cycle.name}`}
                    >
                      Upload
                    </A>
                  </Show>
                  <A
                    class="button"
                    href={`/history?projectId=${cycle.projectId}&cycleId=${cycle.id}`}
                    aria-label={`History of cycle ${cycle.name}`}
                  >
                    History
                  </A>
                  <Show when={canManage()}>
                    <CycleActions cycle={cycle} onChanged={props.onChanged} />
                  </Show>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
