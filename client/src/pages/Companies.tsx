import { createResource, createSignal, For, Match, Show, Switch } from 'solid-js';
import { CompanyCreateForm, type CreatedCompany } from '../components/CompanyCreateForm.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { SecretOnce } from '../components/SecretOnce.tsx';
import { formatCount, formatTime } from '../format.ts';
import { me } from '../me.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';

/** Every company of this instance, and a new one with its first admin (the operator only). */
export function Companies() {
  return (
    <Show
      when={allowed('companies.create')}
      fallback={<p class="notice">Only the operator of this instance manages companies.</p>}
    >
      <CompanyAdmin />
    </Show>
  );
}

function CompanyAdmin() {
  const [companies, { refetch }] = createResource(() => trpc.companies.list.query());
  const [created, setCreated] = createSignal<CreatedCompany>();

  const added = (result: CreatedCompany) => {
    setCreated(result);
    void refetch();
  };

  return (
    <>
      <h1>Companies</h1>
      <section class="card" aria-labelledby="add-company-title">
        <h2 id="add-company-title">Add a company</h2>
        <p class="hint">
          Each company sees only its own projects, uploads and users. Its first admin signs in with a temporary
          password, must choose their own, and then adds the others.
        </p>
        <CompanyCreateForm onCreated={added} />
        <Show when={created()}>
          {(result) => (
            <SecretOnce
              title={`Temporary password of ${result().admin.username}, first admin of ${result().company.name}`}
              value={result().admin.temporaryPassword}
              onDone={() => setCreated(undefined)}
            >
              <p>
                Give it privately to {result().admin.username}, with the address of this page; they must change it when
                they first sign in.
              </p>
            </SecretOnce>
          )}
        </Show>
      </section>
      <Switch>
        <Match when={companies.error}>
          <ErrorMessage error={companies.error} />
        </Match>
        <Match when={companies.latest}>
          {(list) => (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Slug</th>
                    <th scope="col" class="number">
                      Users
                    </th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list()}>
                    {(company) => (
                      <tr>
                        <td>
                          <strong>{company.name}</strong>
                          <Show when={company.id === me()?.company?.id}>
                            {' '}
                            <span class="badge">yours</span>
                          </Show>
                        </td>
                        <td>
                          <code>{company.slug}</code>
                        </td>
                        <td class="number">{formatCount(company.users)}</td>
                        <td>{formatTime(company.createdAt)}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          )}
        </Match>
        <Match when={companies.loading}>
          <p class="muted">Loading companies…</p>
        </Match>
      </Switch>
    </>
  );
}
