import type { Role } from '@data-uploader/shared';
import { Show } from 'solid-js';
import { createAction } from '../action.ts';
import { fieldError } from '../errors.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

const fields = ['username', 'role', 'temporaryPassword'];

export type CreatedUser = Awaited<ReturnType<typeof trpc.users.create.mutate>>;

/** Adds a person to my company with a temporary password (typed here, or made up by the server). */
export function UserCreateForm(props: { onCreated: (created: CreatedUser) => void }) {
  const { busy, error, run } = createAction();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const temporaryPassword = String(form.get('temporaryPassword') ?? '');
    await run(async () => {
      const created = await trpc.users.create.mutate({
        username: String(form.get('username')),
        role: String(form.get('role')) as Role,
        temporaryPassword: temporaryPassword === '' ? undefined : temporaryPassword,
      });
      formElement.reset();
      props.onCreated(created);
    });
  };

  const fieldMessage = (field: string) => (
    <Show when={fieldError(error(), field)}>{(message) => <small class="error">{message()}</small>}</Show>
  );

  return (
    <form class="inline-form entity-form" onSubmit={submit} aria-label="Add a user">
      <label>
        Username
        <input name="username" required minlength="3" maxlength="64" autocomplete="off" spellcheck={false} />
        {fieldMessage('username')}
      </label>
      <label>
        Role
        <select name="role">
          <option value="viewer">viewer</option>
          <option value="user" selected>
            user
          </option>
          <option value="admin">admin</option>
        </select>
        {fieldMessage('role')}
      </label>
      <label>
        Temporary password (optional)
        <input name="temporaryPassword" type="text" minlength="12" maxlength="256" autocomplete="off" />
        <small class="hint">Left empty, one is made up.</small>
        {fieldMessage('temporaryPassword')}
      </label>
      <button type="submit" class="primary" disabled={busy()}>
        {busy() ? 'Adding…' : 'Add user'}
      </button>
      <Show when={!fields.some((field) => fieldError(error(), field))}>
        <div class="form-error">
          <ErrorMessage error={error()} />
        </div>
      </Show>
    </form>
  );
}
