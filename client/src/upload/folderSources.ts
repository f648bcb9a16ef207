import { isHiddenOrSystem } from '@data-uploader/shared';
import type { ScanCounters, ScannedFile, TreeNode } from './folderScan.ts';

/**
 * The dropped items as tree nodes. Must run inside the drop event: the browser empties the DataTransfer after
 * it. `webkitGetAsEntry` gives real directory entries (Chromium, Firefox, Safari), listed lazily.
 * Not `getAsFileSystemHandle` (nor `showDirectoryPicker`), though Chromium lists with it faster: the File System
 * Access API silently leaves out names it finds unsafe on Windows (`09:20:00.WAV`, `CON.wav`, `~x`, a trailing
 * dot or space…; 21 of 28 such names in a dropped folder here), and an upload must account for every file.
 */
export function nodesFromDrop(transfer: DataTransfer): TreeNode[] {
  const nodes: TreeNode[] = [];
  for (const item of transfer.items) {
    const entry = item.kind === 'file' ? item.webkitGetAsEntry() : null;
    if (entry) nodes.push(nodeOfEntry(entry));
  }
  return nodes;
}

function nodeOfEntry(entry: FileSystemEntry): TreeNode {
  if (entry.isDirectory) {
    const directory = entry as FileSystemDirectoryEntry;
    return { name: entry.name, kind: 'directory', list: () => readDirectory(directory) };
  }
  const file = entry as FileSystemFileEntry;
  return { name: entry.name, kind: 'file', open: () => new Promise((resolve, reject) => file.file(resolve, reject)) };
}

/** `readEntries` answers about 100 entries per call until it answers none. */
async function* readDirectory(directory: FileSystemDirectoryEntry): AsyncGenerator<TreeNode[]> {
  const reader = directory.createReader();
  while (true) {
    const entries = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (entries.length === 0) return;
    yield entries.map(nodeOfEntry);
  }
}

const fileListBatch = 500;

/**
 * Files from an `<input type=file>` (with or without `webkitdirectory`). The browser has already listed them;
 * this drops system files, makes paths relative to the one chosen folder, and hands them on in batches with a
 * pause between, because the first read of each File's size is slow for a big folder.
 */
export async function* scanFileList(files: readonly File[], counters: ScanCounters): AsyncGenerator<ScannedFile[]> {
  let batch: ScannedFile[] = [];
  for (const file of files) {
    const segments = (file.webkitRelativePath || file.name).split('/');
    // A folder pick names the chosen folder first: drop it, as a dropped single folder does.
    const relative = segments.length > 1 ? segments.slice(1) : segments;
    if (relative.some(isHiddenOrSystem)) {
      counters.skippedSystem += 1;
      continue;
    }
    counters.found += 1;
    counters.bytes += file.size;
    batch.push({ relativePath: relative.join('/'), file });
    if (batch.length >= fileListBatch) {
      yield batch;
      batch = [];
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  if (batch.length > 0) yield batch;
}
