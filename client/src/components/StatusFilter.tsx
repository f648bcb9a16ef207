import { fileStatus } from '@data-uploader/shared';
import { For } from 'solid-js';

export type FileStatus = (typeof fileStatus.options)[number];

/** Picks which files of a session to list: all of them, or only those of one ledger status. */
export function StatusFilter(props: {
  status: FileStatus | undefined;
  onChange: (status: FileStatus | undefined) => void;
}) {
  return (
    <label class="status-filter">
      Status
      <select onChange={(event) => props.onChange((event.currentTarget.value || undefined) as FileStatus | undefined)}>
        <option value="" selected={!props.status}>
          All files
        </option>
        <For each={fileStatus.options}>
          {(status) => (
            <option value={status} selected={status === props.status}>
              {status}
            </option>
          )}
        </For>
      </select>
    </label>
  );
}
