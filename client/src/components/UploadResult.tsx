import { A } from '@solidjs/router';
import { Show } from 'solid-js';
import { formatBytes, formatCount } from '../format.ts';
import type { Session } from '../upload/uploadRun.ts';

/** The verified result: what the server found in the bucket when it reconciled the session. */
export function UploadResult(props: { session: Session }) {
  const clean = () => props.session.status === 'completed';
  return (
    <section class={clean() ? 'success' : 'notice'} role="status" aria-labelledby="result-title">
      <h2 id="result-title">
        {props.session.status === 'aborted'
          ? 'Upload cancelled'
          : clean()
            ? 'Upload complete and verified'
            : 'Upload finished with errors'}
      </h2>
      <p data-testid="result">
        {formatCount(props.session.filesDone)} files ({formatBytes(props.session.bytesDone)}) verified in the bucket,{' '}
        {formatCount(props.session.filesSkipped)} already there, {formatCount(props.session.filesFailed)} failed.
      </p>
      <Show when={props.session.filesFailed > 0}>
        <p>Drop the same folder again to send the failed files once more.</p>
      </Show>
      <A href={`/sessions/${props.session.id}`}>Session details</A>
    </section>
  );
}
