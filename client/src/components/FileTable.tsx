import { For, Show } from 'solid-js';
import { formatBytes, formatCount, formatTime, printablePath } from '../format.ts';
import type { trpc } from '../trpc.ts';
import { StatusBadge } from './StatusBadge.tsx';

export type LedgerFile = Awaited<ReturnType<typeof trpc.sessions.files.query>>[number];

/** Ledger rows of a session: where each file is, and when it arrived and was found in the bucket. */
export function FileTable(props: { files: LedgerFile[] }) {
  return (
    <div class="table-scroll">
      <table class="data-table">
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col" class="number">
              Size
            </th>
            <th scope="col">Status</th>
            <th scope="col">Error</th>
            <th scope="col" class="number">
              Attempts
            </th>
            <th scope="col">Completed</th>
            <th scope="col">Verified in bucket</th>
          </tr>
        </thead>
        <tbody>
          <For each={props.files}>
            {(file) => (
              <tr>
                <td class="code path" title={file.s3Key}>
                  <PathText path={file.relativePath} />
                </td>
                <td class="number">{formatBytes(file.size)}</td>
                <td>
                  <StatusBadge status={file.status} />
                </td>
                <td>
                  <Show when={file.error} fallback={<span class="muted">–</span>}>
                    <span class="error-text">{file.error}</span>
                  </Show>
                </td>
                <td class="number">{formatCount(file.attempts)}</td>
                <td class="when">{formatTime(file.completedAt)}</td>
                <td class="when">{formatTime(file.verifiedAt)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}

/** A path that may wrap after each slash rather than inside a file name. */
function PathText(props: { path: string }) {
  return (
    <For each={printablePath(props.path).split('/')}>
      {(segment, index) => (
        <>
          {index() > 0 ? '/' : ''}
          {index() > 0 ? <wbr /> : null}
          {segment}
        </>
      )}
    </For>
  );
}
