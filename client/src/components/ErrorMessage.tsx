import { Show } from 'solid-js';
import { errorMessage } from '../errors.ts';

/** The server's (or the network's) complaint, next to the control that caused it. */
export function ErrorMessage(props: { error: unknown }) {
  return (
    <Show when={props.error}>
      <p class="error" role="alert">
        {errorMessage(props.error)}
      </p>
    </Show>
  );
}
