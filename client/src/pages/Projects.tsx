import { useNavigate } from '@solidjs/router';
import { createResource, createSignal, Match, Show, Switch } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { ProjectForm } from '../components/ProjectForm.tsx';
import { ProjectTable } from '../components/ProjectTable.tsx';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';

/** The company's projects; admins start new ones here. */
export function Projects() {
  const navigate = useNavigate();
  const [includeArchived, setIncludeArchived] = createSignal(false);
  const [creating, setCreating] = createSignal(false);
  // The source is an object: a bare `false` would tell Solid not to fetch at all.
  const [projects] = createResource(
    () => ({ includeArchived: includeArchived() }),
    (input) => trpc.projects.list.query(input),
  );

  return (
    <>
      <div class="toolbar">
        <h1>Projects</h1>
        <Show when={allowed('projects.create') && !creating()}>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New project
          </button>
        </Show>
      </div>
      <Show when={creating()}>
        <section class="card" aria-labelledby="new-project-title">
          <h2 id="new-project-title">New project</h2>
          <ProjectForm onSaved={(project) => navigate(`/projects/${project.id}`)} onCancel={() => setCreating(false)} />
        </section>
      </Show>
      <label class="checkbox">
        <input
          type="checkbox"
          checked={includeArchived()}
          onChange={(event) => setIncludeArchived(event.currentTarget.checked)}
        />
        Show archived projects
      </label>
      <Switch>
        <Match when={projects.error}>
          <ErrorMessage error={projects.error} />
        </Match>
        <Match when={projects.loading && !projects.latest}>
          <p class="muted">Loading projects…</p>
        </Match>
        <Match when={projects.latest?.length === 0}>
          <p class="notice">
            {allowed('projects.create')
              ? 'No projects yet. Create one to say which bucket the field data goes to.'
              : 'No projects yet. An admin of your company creates them.'}
          </p>
        </Match>
        <Match when={projects.latest}>{(list) => <ProjectTable projects={list()} />}</Match>
      </Switch>
    </>
  );
}
