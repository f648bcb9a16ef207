import { nextCycleName } from '@data-uploader/shared';
import { createAction } from '../action.ts';
import { trpc } from '../trpc.ts';
import { FormError } from './FormError.tsx';
import { TextField } from './TextField.tsx';

/** Opens a new cycle of a project; with no name the server takes the next of C1, C2, … */
export function CycleForm(props: {
  projectId: string;
  cycles: ReadonlyArray<{ name: string; s3Prefix: string }>;
  onCreated: () => void;
}) {
  const { busy, error, run } = createAction();
  const suggested = () => nextCycleName(props.cycles.flatMap((cycle) => [cycle.name, cycle.s3Prefix]));

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const notes = String(data.get('notes') ?? '').trim();
    await run(async () => {
      await trpc.cycles.create.mutate({
        projectId: props.projectId,
        name: name || undefined,
        notes: notes || undefined,
      });
      form.reset();
      props.onCreated();
    });
  };

  return (
    <form class="card" onSubmit={submit} aria-label="New cycle">
      <div class="inline-form cycle-form">
        <TextField
          label="Cycle name"
          name="name"
          error={error()}
          placeholder={suggested()}
          maxlength="64"
          hint={`Empty: ${suggested()}. Its S3 prefix comes from the name and never changes.`}
        />
        <TextField label="Notes (optional)" name="notes" error={error()} />
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Creating…' : 'Create cycle'}
        </button>
      </div>
      <FormError error={error()} fields={['name', 'notes']} />
    </form>
  );
}
