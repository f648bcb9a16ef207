import { createSignal, Show } from 'solid-js';
import { trpc } from '../trpc.ts';
import { FormError } from './FormError.tsx';
import { SecretOnce } from './SecretOnce.tsx';
import { TextField } from './TextField.tsx';

/**
 * The project's webhook: a URL called with a signed POST whenever one of its upload sessions finishes, so a
 * processing pipeline can start. A new signing secret is shown once, when the URL is saved.
 */
export function WebhookForm(props: { projectId: string; url: string | null; onChanged: () => void }) {
  const [error, setError] = createSignal<unknown>();
  const [secret, setSecret] = createSignal<string | null>(null);
  const save = async (url: string | null) => {
    setError(undefined);
    try {
      const answer = await trpc.projects.setWebhook.mutate({ id: props.projectId, url });
      setSecret(answer.secret);
      props.onChanged();
    } catch (caught) {
      setError(caught);
    }
  };
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const url = String(new FormData(event.currentTarget as HTMLFormElement).get('url') ?? '').trim();
    void save(url || null);
  };
  return (
    <form class="card" onSubmit={submit} aria-label="Webhook">
      <h2>Webhook</h2>
      <p class="muted">
        Called when an upload session of this project finishes: a POST with the session's counters, signed in the
        <code> x-data-uploader-signature</code> header (<code>sha256=</code> HMAC of the body with the secret).
      </p>
      <div class="inline-form">
        <TextField
          label="URL"
          name="url"
          error={error()}
          value={props.url ?? ''}
          placeholder="https://pipeline.example/hook"
        />
        <button type="submit" class="primary">
          Save
        </button>
        <Show when={props.url}>
          <button type="button" onClick={() => void save(null)}>
            Remove
          </button>
        </Show>
      </div>
      <FormError error={error()} fields={['url']} />
      <Show when={secret()}>
        {(value) => (
          <SecretOnce title="Signing secret — shown only now" value={value()} onDone={() => setSecret(null)}>
            Keep it where the receiver checks signatures; saving the URL again makes a new one.
          </SecretOnce>
        )}
      </Show>
    </form>
  );
}
