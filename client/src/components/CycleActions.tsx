import { Show } from 'solid-js';
import { createAction } from '../action.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/** An admin's close or reopen of one cycle; a closed cycle takes no more uploads until it is reopened. */
export function CycleActions(props: { cycle: { id: string; name: string; status: string }; onChanged: () => void }) {
  const { busy, error, run } = createAction();

  const setOpen = async (open: boolean) => {
    await run(async () => {
      const input = { id: props.cycle.id };
      await (open ? trpc.cycles.reopen.mutate(input) : trpc.cycles.close.mutate(input));
      props.onChanged();
    });
  };

  return (
    <>
      <Show
        when={props.cycle.status === 'open'}
        fallback={
          <Show when={allowed('cycles.reopen')}>
            <button
              type="button"
              disabled={busy()}
              onClick={() => setOpen(true)}
              aria-label={`Reopen cycle ${props.cycle.name}`}
            >
              Reopen
            </button>
          </Show>
        }
      >
        <Show when={allowed('cycles.close')}>
          <button
            type="button"
            disabled={busy()}
            onClick={() => setOpen(false)}
            aria-label={`Close cycle ${props.cycle.name}`}
          >
            Close
          </button>
        </Show>
      </Show>
      <ErrorMessage error={error()} />
    </>
  );
}
