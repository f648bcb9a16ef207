import { createResource, createSignal, Match, Show, Switch } from 'solid-js';
import { formatCount } from '../format.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { FileTable } from './FileTable.tsx';
import { type FileStatus, StatusFilter } from './StatusFilter.tsx';

const pageSize = 100;

/** A session's files a page at a time (by ledger id), optionally of one status only. */
export function SessionFiles(props: { sessionId: string }) {
  const [status, setStatus] = createSignal<FileStatus>();
  /** The `after` of every page opened so far; the last one is the page shown. */
  const [cursors, setCursors] = createSignal<number[]>([]);
  const [files, { refetch }] = createResource(
    () => ({ id: props.sessionId, status: status(), after: cursors().at(-1), limit: pageSize }),
    (input) => trpc.sessions.files.query(input),
  );
  const first = () => cursors().length * pageSize + 1;

  const filter = (next: FileStatus | undefined) => {
    setCursors([]);
    setStatus(next);
  };
  const nextPage = () => {
    const last = files.latest?.at(-1);
    if (last) setCursors([...cursors(), last.id]);
  };

  return (
    <section aria-labelledby="files-title">
      <div class="toolbar">
        <h2 id="files-title">Files</h2>
        <div class="toolbar-group">
          <StatusFilter status={status()} onChange={filter} />
          <button type="button" onClick={() => refetch()} disabled={files.loading}>
            Refresh
          </button>
        </div>
      </div>
      <Switch>
        <Match when={files.error}>
          <ErrorMessage error={files.error} />
        </Match>
        <Match when={files.loading && !files.latest}>
          <p class="muted">Loading files…</p>
        </Match>
        <Match when={files.latest?.length === 0 && cursors().length === 0}>
          <p class="notice">{status() ? `No ${status()} files in this session.` : 'No files in this session.'}</p>
        </Match>
        <Match when={files.latest}>
          {(page) => (
            <>
              <FileTable files={page()} />
              <nav class="pager" aria-label="Pages of files">
                <button
                  type="button"
                  disabled={cursors().length === 0 || files.loading}
                  onClick={() => setCursors(cursors().slice(0, -1))}
                >
                  Previous
                </button>
                <span class="muted" aria-live="polite">
                  <Show when={page().length > 0} fallback="No more files">
                    Files {formatCount(first())}–{formatCount(first() + page().length - 1)}
                  </Show>
                </span>
                <button type="button" disabled={page().length < pageSize || files.loading} onClick={nextPage}>
                  Next
                </button>
              </nav>
            </>
          )}
        </Match>
      </Switch>
    </section>
  );
}
