import { isHiddenOrSystem } from '@data-uploader/shared';

/** A file found in the chosen folder, with its path inside it (`/`-separated, no leading slash). */
export interface ScannedFile {
  relativePath: string;
  file: File;
}

/**
 * One node of a folder tree: a dropped FileSystemEntry, or (in the tests) a plain object.
 */
export interface TreeNode {
  name: string;
  kind: 'file' | 'directory';
  /** Children, a page at a time; an empty page ends the listing. Directories only. */
  list?: () => AsyncIterable<TreeNode[]>;
  open?: () => Promise<File>;
}

export interface ScanCounters {
  found: number;
  bytes: number;
  /** Hidden and system files and folders left out (a folder counts once). */
  skippedSystem: number;
}

/** Files opened at once: `FileEntry.file()` is a round trip to the browser process per file. */
const openAtOnce = 64;
/** Files handed on per batch, so planning starts long before a 100k-file folder is listed. */
const batchSize = 500;

/**
 * Walks the chosen items breadth-first a directory page at a time, yielding batches of files, and never blocking
 * the page for long: a 100k-file card dump is listed while the first files are already being planned. When the
 * person chose a single folder, paths are relative to it (as `data-uploader upload DIR` does), so the browser and
 * the CLI give the same keys; several items keep their own names as the first segment.
 */
export async function* scanTree(roots: TreeNode[], counters: ScanCounters): AsyncGenerator<ScannedFile[]> {
  const single = roots.length === 1 && roots[0]?.kind === 'directory';
  const pending: Array<{ node: TreeNode; path: string }> = single
    ? [{ node: roots[0] as TreeNode, path: '' }]
    : [{ node: { name: '', kind: 'directory', list: () => once(roots) }, path: '' }];
  let batch: ScannedFile[] = [];
  let toOpen: Array<{ node: TreeNode; path: string }> = [];

  const openFiles = async () => {
    const opened = await Promise.all(
      toOpen.map(async ({ node, path }) => ({ relativePath: path, file: await openNode(node) })),
    );
    toOpen = [];
    for (const found of opened) {
      counters.found += 1;
      counters.bytes += found.file.size;
      batch.push(found);
    }
  };

  while (pending.length > 0) {
    const { node: directory, path } = pending.shift() as { node: TreeNode; path: string };
    for await (const page of directory.list?.() ?? once([])) {
      for (const child of page) {
        if (isHiddenOrSystem(child.name)) {
          counters.skippedSystem += 1;
          continue;
        }
        const childPath = path ? `${path}/${child.name}` : child.name;
        if (child.kind === 'directory') pending.push({ node: child, path: childPath });
        else toOpen.push({ node: child, path: childPath });
        if (toOpen.length >= openAtOnce) await openFiles();
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  await openFiles();
  if (batch.length > 0) yield batch;
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

function openNode(node: TreeNode): Promise<File> {
  if (!node.open) throw new Error(`${node.name} is not a file`);
  return node.open();
}
