import { Show } from 'solid-js';
import { formatBytes, formatCount, formatTime } from '../format.ts';
import type { Session } from '../upload/uploadRun.ts';

/** An upload this person left unfinished in this cycle (closed tab, lost network, another computer). */
export function InterruptedSession(props: { session: Session; onDiscard: () => void }) {
  const handled = () => props.session.filesDone + props.session.filesSkipped;
  const bytesLeft = () => Math.max(0, props.session.bytesTotal - props.session.bytesDone);
  return (
    <section class="notice" role="status" aria-labelledby="interrupted-title">
      <h2 id="interrupted-title">Your upload of {formatTime(props.session.startedAt)} was interrupted</h2>
      <p data-testid="interrupted">
        {formatCount(handled())} of {formatCount(props.session.filesTotal)} files done, {formatBytes(bytesLeft())} left.
        <Show when={props.session.label}> ({props.session.label})</Show>
      </p>
      <p>
        <strong>Drop the same folder below to continue.</strong> Finished files are skipped and large files continue
        from the part where they stopped.
      </p>
      <button type="button" class="link" onClick={() => props.onDiscard()}>
        Discard it and start a new upload
      </button>
    </section>
  );
}
