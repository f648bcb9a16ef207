import { A } from '@solidjs/router';
import { For, Show } from 'solid-js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../format.ts';
import type { trpc } from '../trpc.ts';
import { StatusBadge } from './StatusBadge.tsx';

export type SessionListing = Awaited<ReturnType<typeof trpc.sessions.list.query>>[number];

/** Upload sessions, one row each, with their counters; the start time opens the session. */
export function SessionTable(props: { sessions: SessionListing[] }) {
  return (
    <div class="table-scroll">
      <table class="data-table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Project / cycle</th>
            <th scope="col">Label</th>
            <th scope="col">Who</th>
            <th scope="col">Source</th>
            <th scope="col">Status</th>
            <th scope="col" class="number">
              Files done
            </th>
            <th scope="col" class="number">
              Failed
            </th>
            <th scope="col" class="number">
              Bytes done
            </th>
            <th scope="col" class="number">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          <For each={props.sessions}>
            {(session) => (
              <tr>
                <td class="when">
                  <A href={`/sessions/${session.id}`}>{formatTime(session.startedAt)}</A>
                </td>
                <td>
                  {session.projectName} <span class="muted">/</span> {session.cycleName}
                </td>
                <td>{session.label || <span class="muted">–</span>}</td>
                <td>{session.username}</td>
                <td>{session.source}</td>
                <td>
                  <StatusBadge status={session.status} />
                </td>
                <td class="number">
                  {formatCount(session.filesDone)} <span class="muted">/ {formatCount(session.filesTotal)}</span>
                  <Show when={session.filesSkipped > 0}>
                    <small class="hint">{formatCount(session.filesSkipped)} skipped</small>
                  </Show>
                </td>
                <td class="number">
                  <Show when={session.filesFailed > 0} fallback={<span class="muted">0</span>}>
                    <span class="error-text">{formatCount(session.filesFailed)}</span>
                  </Show>
                </td>
                <td class="number">
                  {formatBytes(session.bytesDone)} <span class="muted">/ {formatBytes(session.bytesTotal)}</span>
                </td>
                <td class="number">{formatDuration(session.durationSeconds * 1000)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
