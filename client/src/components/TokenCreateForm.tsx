import { createSignal, Show } from 'solid-js';
import { createAction } from '../action.ts';
import { fieldError } from '../errors.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { SecretOnce } from './SecretOnce.tsx';

type CreatedToken = Awaited<ReturnType<typeof trpc.tokens.create.mutate>>;

/** A new API token for scripts and the command-line uploader; the server answers the token itself only once. */
export function TokenCreateForm(props: { onCreated: () => void }) {
  const { busy, error, run } = createAction();
  const [created, setCreated] = createSignal<CreatedToken>();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    await run(async () => {
      setCreated(await trpc.tokens.create.mutate({ name: String(new FormData(formElement).get('name')) }));
      formElement.reset();
      props.onCreated();
    });
  };

  return (
    <>
      <form class="inline-form entity-form" onSubmit={submit} aria-label="Create an API token">
        <label>
          Token name
          <input name="name" required maxlength="100" autocomplete="off" placeholder="e.g. field laptop" />
          <small class="hint">Where it will be used, to recognise it later.</small>
          <Show when={fieldError(error(), 'name')}>{(message) => <small class="error">{message()}</small>}</Show>
        </label>
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Creating…' : 'Create token'}
        </button>
      </form>
      <Show when={!fieldError(error(), 'name')}>
        <ErrorMessage error={error()} />
      </Show>
      <Show when={created()}>
        {(token) => (
          <SecretOnce title={`API token "${token().name}"`} value={token().token} onDone={() => setCreated(undefined)}>
            <TokenUsage token={token().token} />
          </SecretOnce>
        )}
      </Show>
    </>
  );
}

/** How the command-line uploader takes the token (see the README's command-line section). */
function TokenUsage(props: { token: string }) {
  const server = window.location.origin;
  return (
    <div class="token-usage">
      <p>
        It acts as you, with your role, until you revoke it. Give it to the command-line uploader in the environment of
        a script or scheduled job:
      </p>
      <pre class="secret command">{`DATA_UPLOADER_SERVER=${server} DATA_UPLOADER_TOKEN=${props.token} \\
  pnpm uploader upload ./FOLDER --project "PROJECT" --cycle C1`}</pre>
      <p class="hint">
        On your own computer, <code>pnpm uploader login --server {server} --username …</code> asks for your password and
        stores a token of its own instead.
      </p>
    </div>
  );
}
