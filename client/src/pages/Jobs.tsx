import { A } from '@solidjs/router';
import { createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { ImportForm } from '../components/ImportForm.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { formatBytes, formatCount, formatTime } from '../format.ts';
import { trpc } from '../trpc.ts';

/** Imports of folders on the server's disk: running, queued, done or failed with the reason. */
export function Jobs() {
  const [jobs, { refetch }] = createResource(() => trpc.jobs.list.query({}));
  const [actionError, setActionError] = createSignal<unknown>();
  // A running import is watched: its counters move every few seconds.
  const timer = setInterval(() => {
    if (jobs()?.some((job) => job.status === 'queued' || job.status === 'running')) void refetch();
  }, 3000);
  onCleanup(() => clearInterval(timer));

  const cancel = async (id: string) => {
    if (!window.confirm('Cancel this import? What it already sent stays; its upload session is aborted.')) return;
    setActionError(undefined);
    try {
      await trpc.jobs.cancel.mutate({ id });
      await refetch();
    } catch (error) {
      setActionError(error);
    }
  };

  return (
    <>
      <h1>Server imports</h1>
      <p class="muted">
        Folders already on the server (a card-reader station, a network share) are uploaded in the background, with the
        same ledger, resume and history as any upload. A server restart continues them.
      </p>
      <ImportForm onStarted={() => void refetch()} />
      <ErrorMessage error={jobs.error ?? actionError()} />
      <table aria-label="Imports">
        <thead>
          <tr>
            <th>Started</th>
            <th>Folder</th>
            <th>Project / cycle</th>
            <th>Who</th>
            <th>Status</th>
            <th class="number">Files</th>
            <th class="number">Bytes</th>
            <th />
          </tr>
        </thead>
        <tbody>
          <For
            each={jobs()}
            fallback={
              <tr>
                <td colSpan={8} class="muted">
                  No imports yet.
                </td>
              </tr>
            }
          >
            {(job) => (
              <tr>
                <td>{formatTime(job.createdAt)}</td>
                <td>
                  <code>{job.path}</code>
                  <Show when={job.label}>
                    <div class="muted">{job.label}</div>
                  </Show>
                  <Show when={job.error}>
                    <div class="error">{job.error}</div>
                  </Show>
                </td>
                <td>
                  {job.projectName} / {job.cycleName}
                </td>
                <td>{job.username}</td>
                <td>
                  <StatusBadge status={job.status} />
                  <Show when={job.attempts > 1}>
                    <div class="muted">attempt {job.attempts}</div>
                  </Show>
                </td>
                <td class="number">
                  {formatCount((job.filesDone ?? 0) + (job.filesSkipped ?? 0))} /{' '}
                  {job.filesFound == null ? '…' : formatCount(job.filesFound)}
                  <Show when={(job.filesFailed ?? 0) > 0}>
                    <div class="error">{formatCount(job.filesFailed ?? 0)} failed</div>
                  </Show>
                </td>
                <td class="number">{formatBytes(job.bytesDone ?? 0)}</td>
                <td>
                  <Show when={job.sessionId}>
                    <A href={`/sessions/${job.sessionId}`}>Session</A>{' '}
                  </Show>
                  <Show when={job.status === 'queued' || job.status === 'running'}>
                    <button type="button" class="danger" onClick={() => cancel(job.id)}>
                      Cancel
                    </button>
                  </Show>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </>
  );
}
