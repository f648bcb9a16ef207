import { createResource, createSignal, For, Match, Show, Switch } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { SecretOnce } from '../components/SecretOnce.tsx';
import { type CreatedUser, UserCreateForm } from '../components/UserCreateForm.tsx';
import { type User, UserRow } from '../components/UserRow.tsx';
import { me } from '../me.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';

const byUsername = (a: User, b: User) => a.username.localeCompare(b.username);

/** The people of my company: add them, change their role, disable them, reset their password (admins). */
export function Users() {
  return (
    <Show
      when={allowed('users.list')}
      fallback={<p class="notice">Only an admin of your company manages its users.</p>}
    >
      <UserAdmin />
    </Show>
  );
}

function UserAdmin() {
  const [users, { mutate }] = createResource(() => trpc.users.list.query());
  const [created, setCreated] = createSignal<CreatedUser>();

  const added = (result: CreatedUser) => {
    mutate((list) => [...(list ?? []), result.user].sort(byUsername));
    setCreated(result);
  };

  return (
    <>
      <h1>Users of {me()?.company?.name}</h1>
      <section class="card" aria-labelledby="add-user-title">
        <h2 id="add-user-title">Add a user</h2>
        <p class="hint">
          Viewers see projects and the ledger, users also upload, admins manage projects, cycles and users. The new
          person signs in with a temporary password and must choose their own at once.
        </p>
        <UserCreateForm onCreated={added} />
        <Show when={created()}>
          {(result) => (
            <SecretOnce
              title={`Temporary password for ${result().user.username}`}
              value={result().temporaryPassword}
              onDone={() => setCreated(undefined)}
            >
              <p>Give it to them privately, with the address of this page.</p>
            </SecretOnce>
          )}
        </Show>
      </section>
      <Switch>
        <Match when={users.error}>
          <ErrorMessage error={users.error} />
        </Match>
        <Match when={users()}>
          {(list) => (
            <div class="table-scroll">
              <table>
                <caption class="muted table-caption">
                  {list().length === 1 ? '1 user' : `${list().length} users`}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Username</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>{(user) => <UserRow user={user} />}</For>
                </tbody>
              </table>
            </div>
          )}
        </Match>
        <Match when={users.loading}>
          <p class="muted">Loading users…</p>
        </Match>
      </Switch>
    </>
  );
}
