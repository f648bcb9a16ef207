import { createSignal, Show } from 'solid-js';
import { createAction } from '../action.ts';
import { formatTime } from '../format.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { ProjectForm, type ProjectSettings } from './ProjectForm.tsx';

type Project = ProjectSettings & { createdAt: string; archivedAt: string | null };

/** Where a project's files go, and for admins the controls to change that or to archive the project. */
export function ProjectDetails(props: { project: Project; hasFiles: boolean; onChanged: () => void }) {
  const [editing, setEditing] = createSignal(false);
  const { busy, error, run } = createAction();

  const setArchived = async (archived: boolean) => {
    await run(async () => {
      const input = { id: props.project.id };
      await (archived ? trpc.projects.archive.mutate(input) : trpc.projects.unarchive.mutate(input));
      props.onChanged();
    });
  };

  return (
    <section class="card" aria-label="Project settings">
      <Show
        when={editing()}
        fallback={
          <dl class="details">
            <dt>Bucket</dt>
            <dd class="code">{props.project.bucket}</dd>
            <dt>Region</dt>
            <dd>{props.project.region}</dd>
            <dt>Endpoint</dt>
            <dd>
              <Show when={props.project.endpoint} fallback="the server’s own store">
                <span class="code">{props.project.endpoint}</span>
              </Show>
            </dd>
            <dt>Key prefix</dt>
            <dd>
              <Show when={props.project.keyPrefix} fallback="none">
                <span class="code">{props.project.keyPrefix}</span>
              </Show>
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(props.project.createdAt)}</dd>
          </dl>
        }
      >
        <ProjectForm
          project={props.project}
          placeFixed={props.hasFiles}
          onSaved={() => {
            setEditing(false);
            props.onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      </Show>
      <Show when={!editing() && (allowed('projects.update') || allowed('projects.archive'))}>
        <div class="form-actions">
          <Show when={allowed('projects.update')}>
            <button type="button" onClick={() => setEditing(true)}>
              Edit settings
            </button>
          </Show>
          <Show
            when={props.project.archivedAt}
            fallback={
              <Show when={allowed('projects.archive')}>
                <button type="button" class="danger" disabled={busy()} onClick={() => setArchived(true)}>
                  Archive project
                </button>
              </Show>
            }
          >
            <Show when={allowed('projects.unarchive')}>
              <button type="button" disabled={busy()} onClick={() => setArchived(false)}>
                Unarchive project
              </button>
            </Show>
          </Show>
        </div>
        <ErrorMessage error={error()} />
      </Show>
    </section>
  );
}
