import { useNavigate } from '@solidjs/router';
import { createResource, For, Match, Show, Switch } from 'solid-js';
import { createAction } from '../action.ts';
import { formatTime } from '../format.ts';
import { setMe } from '../me.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

type SignInSession = Awaited<ReturnType<typeof trpc.auth.sessions.query>>[number];

const browsers: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const systems: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** "Firefox on Windows" from a user agent string; the whole string is in the cell's title. */
function describeBrowser(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser';
  const browser = browsers.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = systems.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (!browser) return userAgent.slice(0, 60);
  return system ? `${browser} on ${system}` : browser;
}

/** Where I am signed in; ending the current session signs this browser out. */
export function SignInSessionList() {
  const [sessions, { mutate }] = createResource(() => trpc.auth.sessions.query());
  return (
    <Switch>
      <Match when={sessions.error}>
        <ErrorMessage error={sessions.error} />
      </Match>
      <Match when={sessions()}>
        {(list) => (
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Browser</th>
                  <th scope="col">Address</th>
                  <th scope="col">Signed in</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <For each={list()}>
                  {(session) => (
                    <SignInSessionRow
                      session={session}
                      onRevoked={() => mutate((rows) => rows?.filter((row) => row.id !== session.id))}
                    />
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </Match>
      <Match when={sessions.loading}>
        <p class="muted">Loading sessions…</p>
      </Match>
    </Switch>
  );
}

function SignInSessionRow(props: { session: SignInSession; onRevoked: () => void }) {
  const navigate = useNavigate();
  const { busy, error, run } = createAction();
  const browser = () => describeBrowser(props.session.userAgent);

  const revoke = async () => {
    const current = props.session.current;
    const question = current
      ? 'Sign out this browser? You will have to sign in again.'
      : `Sign out the session of ${browser()}${props.session.address ? ` at ${props.session.address}` : ''}?`;
    if (!confirm(question)) return;
    await run(async () => {
      await trpc.auth.revokeSession.mutate({ id: props.session.id });
      if (current) {
        setMe(null);
        navigate('/sign-in', { replace: true });
        return;
      }
      props.onRevoked();
    });
  };

  return (
    <>
      <tr>
        <td title={props.session.userAgent ?? undefined}>
          {browser()}
          <Show when={props.session.current}>
            {' '}
            <span class="badge ok">this browser</span>
          </Show>
        </td>
        <td>{props.session.address ?? '–'}</td>
        <td>{formatTime(props.session.createdAt)}</td>
        <td>{formatTime(props.session.lastSeenAt)}</td>
        <td>{formatTime(props.session.expiresAt)}</td>
        <td class="actions">
          <button type="button" class="danger" disabled={busy()} onClick={revoke}>
            {props.session.current ? 'Sign out' : 'Revoke'}
          </button>
        </td>
      </tr>
      <Show when={error()}>
        <tr class="row-message">
          <td colSpan={6}>
            <ErrorMessage error={error()} />
          </td>
        </tr>
      </Show>
    </>
  );
}
