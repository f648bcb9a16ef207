import { Show } from 'solid-js';
import { createAction } from '../action.ts';
import { trpc } from '../trpc.ts';
import { FormError } from './FormError.tsx';
import { TextField } from './TextField.tsx';

export type ProjectSettings = Awaited<ReturnType<typeof trpc.projects.create.mutate>>;

const fields = ['name', 'bucket', 'region', 'endpoint', 'keyPrefix'] as const;
type Field = (typeof fields)[number];
type Values = Record<Field, string>;

const valuesOf = (form: HTMLFormElement): Values => {
  const data = new FormData(form);
  return Object.fromEntries(fields.map((field) => [field, String(data.get(field) ?? '').trim()])) as Values;
};

type ProjectChanges = Omit<Parameters<typeof trpc.projects.update.mutate>[0], 'id'>;

/** What an edit changes: only the fields that differ; a cleared endpoint or key prefix becomes null. */
function changesOf(project: ProjectSettings, values: Values): ProjectChanges {
  const changes: ProjectChanges = {};
  const changed = (field: Field) => values[field] !== (project[field] ?? '');
  for (const field of ['name', 'bucket', 'region'] as const) if (changed(field)) changes[field] = values[field];
  for (const field of ['endpoint', 'keyPrefix'] as const) if (changed(field)) changes[field] = values[field] || null;
  return changes;
}

/** A new project (no `project`) or the settings of an existing one; the server checks the bucket before saving. */
export function ProjectForm(props: {
  project?: ProjectSettings;
  /** Files were uploaded: where they went (bucket, region, endpoint, key prefix) can no longer change. */
  placeFixed?: boolean;
  onSaved: (project: ProjectSettings) => void;
  onCancel?: () => void;
}) {
  const { busy, error, run } = createAction();

  const save = (values: Values) => {
    const { project } = props;
    if (project) {
      const changes = changesOf(project, values);
      if (Object.keys(changes).length === 0) return Promise.resolve(project);
      return trpc.projects.update.mutate({ id: project.id, ...changes });
    }
    return trpc.projects.create.mutate({
      name: values.name,
      bucket: values.bucket,
      region: values.region || undefined,
      endpoint: values.endpoint || undefined,
      keyPrefix: values.keyPrefix || undefined,
    });
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    await run(async () => {
      props.onSaved(await save(valuesOf(event.currentTarget as HTMLFormElement)));
    });
  };

  const value = (field: Field) => props.project?.[field] ?? '';
  const fixed = 'Fixed: files were uploaded to this project.';
  const hint = (text: string) => (props.placeFixed ? fixed : text);
  return (
    <form class="project-form" onSubmit={submit} aria-label={props.project ? 'Project settings' : 'New project'}>
      <TextField label="Name" name="name" error={error()} value={value('name')} required maxlength="100" />
      <TextField
        label="Bucket"
        name="bucket"
        error={error()}
        value={value('bucket')}
        required
        spellcheck={false}
        readOnly={props.placeFixed}
        hint={hint('The S3 bucket files go to; it must allow uploads from this app (CORS).')}
      />
      <TextField
        label="Region"
        name="region"
        error={error()}
        value={props.project?.region ?? 'us-east-1'}
        required
        readOnly={props.placeFixed}
        spellcheck={false}
      />
      <TextField
        label="Endpoint (optional)"
        name="endpoint"
        error={error()}
        value={value('endpoint')}
        type="url"
        placeholder={props.placeFixed ? undefined : 'https://s3.example.com'}
        readOnly={props.placeFixed}
        hint={hint("Only for an S3-compatible store other than the server's own (MinIO, Ceph…).")}
      />
      <TextField
        label="Key prefix (optional)"
        name="keyPrefix"
        error={error()}
        value={value('keyPrefix')}
        spellcheck={false}
        placeholder={props.placeFixed ? undefined : 'campaigns/2025'}
        readOnly={props.placeFixed}
        hint={hint('Every key of this project starts with it: prefix/cycle/sensor/file.')}
      />
      <FormError error={error()} fields={fields} />
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Saving…' : props.project ? 'Save changes' : 'Create project'}
        </button>
        <Show when={props.onCancel}>
          <button type="button" onClick={() => props.onCancel?.()} disabled={busy()}>
            Cancel
          </button>
        </Show>
      </div>
    </form>
  );
}
