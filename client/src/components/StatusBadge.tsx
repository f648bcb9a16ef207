/** How each status of a cycle, an upload session or a ledger file looks: green done, amber partial, red lost. */
const tones: Record<string, string> = {
  open: 'ok',
  closed: '',
  archived: 'warn',
  active: 'warn',
  completed: 'ok',
  completed_with_errors: 'warn',
  aborted: 'bad',
  pending: '',
  uploading: 'warn',
  failed: 'bad',
  queued: '',
  running: 'warn',
  cancelled: 'bad',
};

/** `completed_with_errors` → `completed with errors` */
export const statusLabel = (status: string) => status.replaceAll('_', ' ');

export function StatusBadge(props: { status: string }) {
  return <span class={`badge ${tones[props.status] ?? ''}`.trim()}>{statusLabel(props.status)}</span>;
}
