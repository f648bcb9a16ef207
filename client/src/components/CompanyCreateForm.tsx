import { Show } from 'solid-js';
import { createAction } from '../action.ts';
import { fieldError } from '../errors.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export type CreatedCompany = Awaited<ReturnType<typeof trpc.companies.create.mutate>>;

const fields = ['name', 'slug', 'adminUsername'];

/** A new company and its first admin, whose temporary password the server answers once. */
export function CompanyCreateForm(props: { onCreated: (created: CreatedCompany) => void }) {
  const { busy, error, run } = createAction();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const slug = String(form.get('slug') ?? '').trim();
    await run(async () => {
      const created = await trpc.companies.create.mutate({
        name: String(form.get('name')),
        slug: slug === '' ? undefined : slug,
        adminUsername: String(form.get('adminUsername')),
      });
      formElement.reset();
      props.onCreated(created);
    });
  };

  const fieldMessage = (field: string) => (
    <Show when={fieldError(error(), field)}>{(message) => <small class="error">{message()}</small>}</Show>
  );

  return (
    <form class="inline-form entity-form" onSubmit={submit} aria-label="Add a company">
      <label>
        Name
        <input name="name" required maxlength="100" autocomplete="off" />
        {fieldMessage('name')}
      </label>
      <label>
        Slug (optional)
        <input
          name="slug"
          maxlength="40"
          pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?"
          title="lowercase letters, digits and inner hyphens"
          autocomplete="off"
          spellcheck={false}
        />
        <small class="hint">Lowercase letters, digits, hyphens; left empty, made from the name.</small>
        {fieldMessage('slug')}
      </label>
      <label>
        First admin's username
        <input name="adminUsername" required minlength="3" maxlength="64" autocomplete="off" spellcheck={false} />
        {fieldMessage('adminUsername')}
      </label>
      <button type="submit" class="primary" disabled={busy()}>
        {busy() ? 'Adding…' : 'Add company'}
      </button>
      <Show when={!fields.some((field) => fieldError(error(), field))}>
        <div class="form-error">
          <ErrorMessage error={error()} />
        </div>
      </Show>
    </form>
  );
}
