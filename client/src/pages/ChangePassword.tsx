import { Navigate, useNavigate } from '@solidjs/router';
import { createSignal, Show } from 'solid-js';
import { createAction } from '../action.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { fieldError } from '../errors.ts';
import { me, refetchMe } from '../me.ts';
import { trpc } from '../trpc.ts';

/** Forced at first sign-in (and after an admin's reset); also reachable from the account page. */
export function ChangePassword() {
  const navigate = useNavigate();
  const { busy, error, run } = createAction();
  const [mismatch, setMismatch] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const newPassword = String(form.get('newPassword'));
    setMismatch(newPassword !== String(form.get('repeat')));
    if (mismatch()) return;
    await run(async () => {
      await trpc.auth.changePassword.mutate({ currentPassword: String(form.get('currentPassword')), newPassword });
      await refetchMe();
      navigate('/', { replace: true });
    });
  };

  return (
    <Show when={me() !== null} fallback={<Navigate href="/sign-in" />}>
      <div class="centered">
        <form class="card narrow" onSubmit={submit} aria-labelledby="change-password-title">
          <h1 id="change-password-title">Choose your password</h1>
          <Show when={me()?.mustChangePassword}>
            <p class="muted">
              You signed in with a temporary password. Choose your own before you go on; every other device you are
              signed in on is signed out.
            </p>
          </Show>
          <label>
            Current password
            <input name="currentPassword" type="password" autocomplete="current-password" required />
          </label>
          <label>
            New password
            <input
              name="newPassword"
              type="password"
              autocomplete="new-password"
              required
              minlength="12"
              aria-describedby="new-password-hint"
            />
          </label>
          <small class="hint" id="new-password-hint">
            At least 12 characters, not containing your username.
          </small>
          <Show when={fieldError(error(), 'newPassword')}>{(message) => <small class="error">{message()}</small>}</Show>
          <label>
            New password again
            <input name="repeat" type="password" autocomplete="new-password" required />
            <Show when={mismatch()}>
              <small class="error">The two new passwords differ</small>
            </Show>
          </label>
          <ErrorMessage error={error()} />
          <button type="submit" class="primary" disabled={busy()}>
            {busy() ? 'Saving…' : 'Save password'}
          </button>
        </form>
      </div>
    </Show>
  );
}
