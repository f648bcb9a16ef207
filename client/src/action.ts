import { createSignal } from 'solid-js';

/**
 * A call to the server that a control starts: `busy` while it runs (to disable the control), and its error
 * kept to show next to it. `run` never throws.
 */
export function createAction() {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>();
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
