import { createUniqueId, type JSX, Show, splitProps } from 'solid-js';
import { fieldError } from '../errors.ts';

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'name' | 'id'>;

/**
 * A labelled input with its hint, and the server's complaint about it right below when it has one. The hint
 * and the complaint describe the input rather than name it, so they sit outside the label.
 */
export function TextField(props: InputProps & { label: string; name: string; error: unknown; hint?: string }) {
  const [own, input] = splitProps(props, ['label', 'name', 'error', 'hint']);
  const inputId = createUniqueId();
  const hintId = createUniqueId();
  const errorId = createUniqueId();
  const message = () => fieldError(own.error, own.name);
  const describedBy = () => [own.hint ? hintId : '', message() ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="text-field">
      <label for={inputId}>{own.label}</label>
      <input
        id={inputId}
        name={own.name}
        aria-invalid={message() ? true : undefined}
        aria-describedby={describedBy()}
        {...input}
      />
      <Show when={own.hint}>
        <small class="hint" id={hintId}>
          {own.hint}
        </small>
      </Show>
      <Show when={message()}>
        {(text) => (
          <small class="hint error" id={errorId}>
            {text()}
          </small>
        )}
      </Show>
    </div>
  );
}
