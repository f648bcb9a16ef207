import { type ScanCounters, type ScannedFile, scanTree } from './folderScan.ts';
import { nodesFromDrop, scanFileList } from './folderSources.ts';

/**
 * Takes drops and file-picker choices away from the Dashboard before it sees them: the Dashboard would read a
 * whole 100k-file folder into Uppy in one frozen task. Our scan lists it lazily and feeds Uppy a window instead.
 * Returns the function that removes the listeners.
 */
export function interceptDashboardInput(
  container: HTMLElement,
  counters: ScanCounters,
  onFiles: (batches: AsyncIterable<ScannedFile[]>) => void,
  /** The Dashboard never saw the drop, so its "drop here" highlight must be cleared for it. */
  clearHighlight: () => void,
): () => void {
  const onDrop = (event: DragEvent) => {
    if (!event.dataTransfer) return;
    event.preventDefault();
    event.stopPropagation();
    const nodes = nodesFromDrop(event.dataTransfer);
    clearHighlight();
    if (nodes.length > 0) onFiles(scanTree(nodes, counters));
  };
  const onChange = (event: Event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.files) return;
    event.stopPropagation();
    // Clearing the input (so that choosing the same folder again fires another change) empties its FileList in
    // place: the scan, which reads it later, gets a copy.
    const files = Array.from(input.files);
    input.value = '';
    onFiles(scanFileList(files, counters));
  };
  container.addEventListener('drop', onDrop, true);
  container.addEventListener('change', onChange, true);
  return () => {
    container.removeEventListener('drop', onDrop, true);
    container.removeEventListener('change', onChange, true);
  };
}
