import { createResource, For } from 'solid-js';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export interface HistoryPlace {
  projectId?: string;
  cycleId?: string;
}

/** Narrows the history to one project, then to one of its cycles; archived projects included. */
export function HistoryFilter(props: { place: HistoryPlace; onChange: (place: HistoryPlace) => void }) {
  const [projects] = createResource(() => trpc.projects.list.query({ includeArchived: true }));
  const [cycles] = createResource(
    () => props.place.projectId,
    (projectId) => trpc.cycles.list.query({ projectId }),
  );

  return (
    <form class="inline-form filters" aria-label="Filter the history" onSubmit={(event) => event.preventDefault()}>
      <label>
        Project
        <select
          name="projectId"
          onChange={(event) => props.onChange({ projectId: event.currentTarget.value || undefined })}
        >
          <option value="">All projects</option>
          <For each={projects.latest}>
            {(project) => (
              <option value={project.id} selected={project.id === props.place.projectId}>
                {project.name}
                {project.archivedAt ? ' (archived)' : ''}
              </option>
            )}
          </For>
        </select>
      </label>
      <label>
        Cycle
        <select
          name="cycleId"
          disabled={!props.place.projectId}
          onChange={(event) =>
            props.onChange({ projectId: props.place.projectId, cycleId: event.currentTarget.value || undefined })
          }
        >
          <option value="">All cycles</option>
          <For each={props.place.projectId ? cycles.latest : []}>
            {(cycle) => (
              <option value={cycle.id} selected={cycle.id === props.place.cycleId}>
                {cycle.name}
                {cycle.status === 'closed' ? ' (closed)' : ''}
              </option>
            )}
          </For>
        </select>
      </label>
      <ErrorMessage error={projects.error ?? cycles.error} />
    </form>
  );
}
