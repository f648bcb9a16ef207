import { Show } from 'solid-js';
import { formatCount } from '../format.ts';
import type { NetworkView } from '../upload/uploadRun.ts';

/** Says that the run is waiting out a fault by itself, so a dropped link does not look like a failed upload. */
export function NetworkNotice(props: { network: NetworkView }) {
  const again = () => {
    const waiting = props.network.waiting;
    if (waiting === 0) return '';
    return ` ${formatCount(waiting)} ${waiting === 1 ? 'file' : 'files'} will be sent again.`;
  };
  return (
    <Show when={props.network.state !== 'ok'}>
      <p class="notice" role="status" data-testid="network">
        <Show
          when={props.network.state === 'offline'}
          fallback={
            <>
              <strong>Retrying</strong> — {props.network.reason ?? 'the server did not answer'}. Nothing has failed; the
              upload goes on by itself.{again()}
            </>
          }
        >
          <strong>Offline</strong> — waiting for the network. The upload continues by itself when it is back.
          {again()}
        </Show>
      </p>
    </Show>
  );
}
