import { A, useNavigate } from '@solidjs/router';
import { type JSX, Show } from 'solid-js';
import { me, setMe } from '../me.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';

/** The frame of every signed-in page: the product's name, where one can go, who is signed in. */
export function Layout(props: { children?: JSX.Element }) {
  const navigate = useNavigate();
  const signOut = async () => {
    await trpc.auth.logout.mutate().catch(() => undefined);
    setMe(null);
    navigate('/sign-in', { replace: true });
  };
  return (
    <div class="shell">
      <header class="topbar">
        <A href="/" class="brand">
          Data Uploader
        </A>
        <nav aria-label="Main">
          <A href="/" end>
            Projects
          </A>
          <A href="/history">History</A>
          <Show when={allowed('jobs.list')}>
            <A href="/jobs">Imports</A>
          </Show>
          <Show when={allowed('users.list')}>
            <A href="/users">Users</A>
          </Show>
          <Show when={allowed('companies.create')}>
            <A href="/companies">Companies</A>
          </Show>
        </nav>
        <div class="who">
          <A href="/account" title="My sessions and API tokens">
            {me()?.username}
            <span class="muted"> · {me()?.company?.name}</span>
          </A>
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>{props.children}</main>
    </div>
  );
}
