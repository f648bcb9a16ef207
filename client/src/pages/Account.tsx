import { A } from '@solidjs/router';
import { Show } from 'solid-js';
import { SignInSessionList } from '../components/SignInSessionList.tsx';
import { TokenList } from '../components/TokenList.tsx';
import { me } from '../me.ts';

/** Who I am, where I am signed in, my password and my API tokens. */
export function Account() {
  return (
    <>
      <h1>Your account</h1>
      <section class="card account-summary" aria-label="Who you are">
        <div>
          <strong>{me()?.username}</strong> <span class="badge">{me()?.role}</span>
          <Show when={me()?.isOperator}>
            {' '}
            <span class="badge warn">operator</span>
          </Show>
          <div class="muted">{me()?.company?.name}</div>
        </div>
        <A href="/change-password" class="button">
          Change password
        </A>
      </section>

      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title">Where you are signed in</h2>
        <p class="hint">
          Each browser you signed in with. Revoke one you do not recognise, then change your password; changing it signs
          out every other browser.
        </p>
        <SignInSessionList />
      </section>

      <section aria-labelledby="tokens-title">
        <h2 id="tokens-title">API tokens</h2>
        <p class="hint">
          For the command-line uploader and scripts. A token acts as you; revoke one you no longer use.
        </p>
        <TokenList />
      </section>
    </>
  );
}
