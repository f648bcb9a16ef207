import { createSignal, Show } from 'solid-js';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/** An admin's close or reopen of one cycle; a closed cycle takes no more uploads until it is reopened. */
export function CycleActions(props: { cycle: { id: string; name: string; status: string }; onChanged: () => void }) {
  const [error, setError] = createSignal<unknown>();
  const [busy, setBusy] = createSignal(false);

  const setOpen = async (open: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const input = { id: props.cycle.id };
      await (open ? trpc.cycles.reopen.mutate(input) : trpc.cycles.close.mutate(input));
      props.onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
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
