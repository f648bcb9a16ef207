import { Index, Show } from 'solid-js';
import { formatCount, printablePath } from '../format.ts';
import type { RunView } from '../upload/uploadRun.ts';

/** Files that failed after Uppy's own retries, with the reason, and what the person can do about them. */
export function FailedFiles(props: { view: RunView; onRetry: () => void; onFinish: () => void }) {
  return (
    <Show when={props.view.failureCount > 0}>
      <section class="card" aria-labelledby="failed-title">
        <div class="toolbar">
          <h2 id="failed-title">{formatCount(props.view.failureCount)} files failed</h2>
          <div class="inline-form">
            <button type="button" class="primary" onClick={() => props.onRetry()}>
              Retry failed files
            </button>
            <Show when={props.view.phase === 'finishing'}>
              <button type="button" onClick={() => props.onFinish()}>
                Finish without them
              </button>
            </Show>
          </div>
        </div>
        <ul class="problems">
          {/* By place, not by object: every redraw brings new objects, and rows made again cost the page layout. */}
          <Index each={props.view.failures}>
            {(failure) => (
              <li>
                <code>{printablePath(failure().relativePath)}</code> — {failure().error}
              </li>
            )}
          </Index>
        </ul>
      </section>
    </Show>
  );
}
