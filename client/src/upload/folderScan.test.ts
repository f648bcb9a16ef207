import { describe, expect, it } from 'vitest';
import { type ScanCounters, scanTree, type TreeNode } from './folderScan.ts';

function file(name: string, size = 1): TreeNode {
  return { name, kind: 'file', open: async () => new File(['x'.repeat(size)], name) };
}

/** A directory listed in pages of `pageSize`, as `readEntries` does. */
function directory(name: string, children: TreeNode[], pageSize = 2): TreeNode {
  return {
    name,
    kind: 'directory',
    async *list() {
      for (let start = 0; start < children.length; start += pageSize) yield children.slice(start, start + pageSize);
    },
  };
}

async function scan(roots: TreeNode[]) {
  const counters: ScanCounters = { found: 0, bytes: 0, skippedSystem: 0 };
  const batches: string[][] = [];
  for await (const batch of scanTree(roots, counters)) batches.push(batch.map((found) => found.relativePath));
  return { counters, paths: batches.flat().sort(), batches };
}

describe('scanTree', () => {
  it('makes paths relative to a single chosen folder, like the CLI, and leaves out system files', async () => {
    const card = directory('SD_CARD_01', [
      directory('950349', [file('20250909_092000.WAV', 3), file('.DS_Store'), directory('sub', [file('b.wav')])]),
      directory('950350', [file('20250909_093000.WAV', 5)]),
      file('Thumbs.db'),
      directory('System Volume Information', [file('IndexerVolumeGuid')]),
    ]);
    const { counters, paths } = await scan([card]);
    expect(paths).toEqual(['950349/20250909_092000.WAV', '950349/sub/b.wav', '950350/20250909_093000.WAV']);
    expect(counters).toEqual({ found: 3, bytes: 9, skippedSystem: 3 });
  });

  it('keeps the names of several dropped items as the first segment', async () => {
    const { paths } = await scan([
      directory('950349', [file('a.wav')]),
      directory('950350', [file('b.wav')]),
      file('notes.txt'),
    ]);
    expect(paths).toEqual(['950349/a.wav', '950350/b.wav', 'notes.txt']);
  });

  it('hands files on in batches, so planning can start before the listing ends', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => file(`${i}.wav`));
    const { batches, counters } = await scan([directory('S', [directory('A', many, 100)])]);
    expect(counters.found).toBe(1200);
    expect(batches.length).toBeGreaterThan(1);
    expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(564);
  });
});
