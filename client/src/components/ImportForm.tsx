import { createResource, createSignal, For } from 'solid-js';
import { createAction } from '../action.ts';
import { trpc } from '../trpc.ts';
import { FormError } from './FormError.tsx';
import { TextField } from './TextField.tsx';

/** Starts an import of a folder on the server: which project and open cycle, which folder, a label. */
export function ImportForm(props: { onStarted: () => void }) {
  const [projects] = createResource(() => trpc.projects.list.query({}));
  const [projectId, setProjectId] = createSignal('');
  const [cycles] = createResource(projectId, (id) => (id ? trpc.cycles.list.query({ projectId: id }) : []));
  const { busy, error, run } = createAction();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const element = event.currentTarget as HTMLFormElement;
    const form = new FormData(element);
    await run(async () => {
      await trpc.jobs.startImport.mutate({
        projectId: String(form.get('projectId')),
        cycleId: String(form.get('cycleId')),
        path: String(form.get('path')),
        label: String(form.get('label') ?? ''),
      });
      element.reset();
      props.onStarted();
    });
  };

  return (
    <form class="card" onSubmit={submit} aria-label="New import">
      <div class="inline-form">
        <label>
          Project
          <select name="projectId" required onChange={(event) => setProjectId(event.currentTarget.value)}>
            <option value="">Choose…</option>
            <For each={projects()}>{(project) => <option value={project.id}>{project.name}</option>}</For>
          </select>
        </label>
        <label>
          Cycle
          <select name="cycleId" required disabled={!projectId()}>
            <For each={(cycles() ?? []).filter((cycle) => cycle.status === 'open')}>
              {(cycle) => <option value={cycle.id}>{cycle.name}</option>}
            </For>
          </select>
        </label>
      </div>
      <TextField
        label="Folder on the server"
        name="path"
        error={error()}
        required
        placeholder="/srv/cards/SD_2025-09"
        hint="A full path inside one of the folders the operator allowed (IMPORT_ROOTS)."
      />
      <TextField label="Label (optional)" name="label" error={error()} maxlength="200" />
      <FormError error={error()} fields={['path', 'label']} />
      <button type="submit" class="primary" disabled={busy()}>
        {busy() ? 'Starting…' : 'Start import'}
      </button>
    </form>
  );
}
