import { type Role, roles } from '@data-uploader/shared';
import { A } from '@solidjs/router';
import { createSignal, For, Show } from 'solid-js';
import { formatTime } from '../format.ts';
import { me, refetchMe } from '../me.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { SecretOnce } from './SecretOnce.tsx';

export type User = Awaited<ReturnType<typeof trpc.users.list.query>>[number];

const columns = 5;

/**
 * One person of my company with the admin's controls; the row keeps its own copy of the person so that a change
 * (and the error or temporary password it produced) stays on this row without reloading the list.
 */
export function UserRow(props: { user: User }) {
  const [user, setUser] = createSignal(props.user);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const [temporaryPassword, setTemporaryPassword] = createSignal<string>();
  const isMe = () => user().id === me()?.id;
  // Only an operator may change the operator's account; a company admin sees it read-only.
  const readOnly = () => user().isOperator && !me()?.isOperator;

  /** Runs one change; true when the server took it. */
  const run = async (change: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await change();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const changeRole = async (select: HTMLSelectElement) => {
    const role = select.value as Role;
    const demotingMyself = isMe() && role !== 'admin';
    if (demotingMyself && !confirm('Make yourself a non-admin? You lose access to this page at once.')) {
      select.value = user().role;
      return;
    }
    const done = await run(async () => setUser(await trpc.users.changeRole.mutate({ id: user().id, role })));
    if (!done) select.value = user().role;
    else if (demotingMyself) await refetchMe();
  };

  const toggleDisabled = async () => {
    const name = user().username;
    if (user().disabledAt) {
      if (!confirm(`Enable ${name}? They can sign in again.`)) return;
      await run(async () => setUser(await trpc.users.enable.mutate({ id: user().id })));
      return;
    }
    if (!confirm(`Disable ${name}? They are signed out everywhere and their API tokens stop working.`)) return;
    await run(async () => setUser(await trpc.users.disable.mutate({ id: user().id })));
  };

  const resetPassword = async () => {
    const question = `Reset the password of ${user().username}? They are signed out everywhere, their API tokens are revoked, and they must sign in with a new temporary password.`;
    if (!confirm(question)) return;
    await run(async () => {
      const reset = await trpc.users.resetPassword.mutate({ id: user().id });
      setUser(reset.user);
      setTemporaryPassword(reset.temporaryPassword);
    });
  };

  return (
    <>
      <tr classList={{ 'row-disabled': Boolean(user().disabledAt) }}>
        <td>
          <strong>{user().username}</strong>
          <Show when={isMe()}>
            {' '}
            <span class="badge">you</span>
          </Show>
          <Show when={user().isOperator}>
            {' '}
            <span class="badge warn">operator</span>
          </Show>
        </td>
        <td>
          <select
            class="compact"
            aria-label={`Role of ${user().username}`}
            disabled={busy() || readOnly()}
            onChange={(event) => changeRole(event.currentTarget)}
          >
            <For each={roles}>
              {(role) => (
                <option value={role} selected={role === user().role}>
                  {role}
                </option>
              )}
            </For>
          </select>
        </td>
        <td>
          <Show when={user().disabledAt} fallback={<span class="badge ok">active</span>}>
            {(since) => (
              <>
                <span class="badge bad">disabled</span>
                <span class="hint">since {formatTime(since())}</span>
              </>
            )}
          </Show>
          <Show when={user().mustChangePassword && !user().disabledAt}>
            <span class="hint">has a temporary password</span>
          </Show>
        </td>
        <td>{formatTime(user().createdAt)}</td>
        <td class="actions">
          <Show
            when={!isMe() && !readOnly()}
            fallback={
              isMe() ? <A href="/change-password">Change my password</A> : <span class="hint">operator only</span>
            }
          >
            <button type="button" disabled={busy()} onClick={resetPassword}>
              Reset password
            </button>
            <button type="button" class={user().disabledAt ? '' : 'danger'} disabled={busy()} onClick={toggleDisabled}>
              {user().disabledAt ? 'Enable' : 'Disable'}
            </button>
          </Show>
        </td>
      </tr>
      <Show when={error() || temporaryPassword()}>
        <tr class="row-message">
          <td colSpan={columns}>
            <ErrorMessage error={error()} />
            <Show when={temporaryPassword()}>
              {(password) => (
                <SecretOnce
                  title={`New temporary password for ${user().username}`}
                  value={password()}
                  onDone={() => setTemporaryPassword(undefined)}
                >
                  <p>Give it to them privately; they must choose their own password when they sign in with it.</p>
                </SecretOnce>
              )}
            </Show>
          </td>
        </tr>
      </Show>
    </>
  );
}
