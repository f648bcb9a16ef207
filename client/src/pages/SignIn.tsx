import { useNavigate, useSearchParams } from '@solidjs/router';
import { createAction } from '../action.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { refetchMe } from '../me.ts';
import { trpc } from '../trpc.ts';

export function SignIn() {
  const navigate = useNavigate();
  const [params] = useSearchParams<{ next?: string }>();
  const { busy, error, run } = createAction();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    await run(async () => {
      await trpc.auth.login.mutate({ username: String(form.get('username')), password: String(form.get('password')) });
      const person = await refetchMe();
      const next = params.next?.startsWith('/') && !params.next.startsWith('//') ? params.next : '/';
      navigate(person?.mustChangePassword ? '/change-password' : next, { replace: true });
    });
  };

  return (
    <div class="centered">
      <form class="card narrow" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Data Uploader</h1>
        <p class="muted">Sign in to upload and follow your field data.</p>
        <label>
          Username
          <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorMessage error={error()} />
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
