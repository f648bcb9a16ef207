import { createResource, For, Match, Show, Switch } from 'solid-js';
import { createAction } from '../action.ts';
import { formatTime } from '../format.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { TokenCreateForm } from './TokenCreateForm.tsx';

type Token = Awaited<ReturnType<typeof trpc.tokens.list.query>>[number];

/** My API tokens (never the tokens themselves, which the server does not keep), a new one, and revoking. */
export function TokenList() {
  const [tokens, { refetch }] = createResource(() => trpc.tokens.list.query());
  return (
    <>
      <TokenCreateForm onCreated={() => void refetch()} />
      <Switch>
        <Match when={tokens.error}>
          <ErrorMessage error={tokens.error} />
        </Match>
        <Match when={tokens.latest?.length === 0}>
          <p class="muted">No API tokens yet.</p>
        </Match>
        <Match when={tokens.latest}>
          {(list) => (
            <div class="table-scroll token-table">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>{(token) => <TokenRow token={token} onRevoked={() => void refetch()} />}</For>
                </tbody>
              </table>
            </div>
          )}
        </Match>
        <Match when={tokens.loading}>
          <p class="muted">Loading tokens…</p>
        </Match>
      </Switch>
    </>
  );
}

function TokenRow(props: { token: Token; onRevoked: () => void }) {
  const { busy, error, run } = createAction();

  const revoke = async () => {
    if (!confirm(`Revoke the token "${props.token.name}"? Scripts and uploaders using it stop working at once.`))
      return;
    await run(async () => {
      await trpc.tokens.revoke.mutate({ id: props.token.id });
      props.onRevoked();
    });
  };

  return (
    <>
      <tr classList={{ 'row-disabled': Boolean(props.token.revokedAt) }}>
        <td>{props.token.name}</td>
        <td>{formatTime(props.token.createdAt)}</td>
        <td>{props.token.lastUsedAt ? formatTime(props.token.lastUsedAt) : 'never'}</td>
        <td>
          <Show when={props.token.revokedAt} fallback={<span class="badge ok">active</span>}>
            {(revokedAt) => (
              <>
                <span class="badge">revoked</span>
                <span class="hint">{formatTime(revokedAt())}</span>
              </>
            )}
          </Show>
        </td>
        <td class="actions">
          <Show when={!props.token.revokedAt}>
            <button type="button" class="danger" disabled={busy()} onClick={revoke}>
              Revoke
            </button>
          </Show>
        </td>
      </tr>
      <Show when={error()}>
        <tr class="row-message">
          <td colSpan={5}>
            <ErrorMessage error={error()} />
          </td>
        </tr>
      </Show>
    </>
  );
}
