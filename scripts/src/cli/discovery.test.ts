import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from './discovery.ts';

let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'du-discovery-'));
  outside = await mkdtemp(path.join(tmpdir(), 'du-discovery-outside-'));
  const files: Record<string, string> = {
    'S1/20250101_000000.WAV': 'aaaa',
    'S1/deep/er/20250101_000100.WAV': 'bb',
    'S2/20250101_000000.wav': 'c',
    '.DS_Store': 'x',
    'S1/Thumbs.db': 'x',
    'S1/desktop.ini': 'x',
    'S2/._20250101_000000.wav': 'x',
    '.Spotlight-V100/store.db': 'x',
    'System Volume Information/IndexerVolumeGuid': 'x',
    'S2/.cache/a.WAV': 'x',
  };
  for (const [relativePath, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, relativePath)), { recursive: true });
    await writeFile(path.join(root, relativePath), content);
  }
  await writeFile(path.join(outside, 'elsewhere.WAV'), 'zzz');
  await symlink(path.join(outside, 'elsewhere.WAV'), path.join(root, 'S2/link.WAV'));
  await symlink(outside, path.join(root, 'linked-folder'));
});

afterAll(async () => {
  await Promise.all([root, outside].map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('discover', () => {
  it('lists files with / paths, sizes, and skips hidden/system names and symlinks by default', async () => {
    const found = await discover(root);
    expect(found.files.map((f) => [f.relativePath, f.size])).toEqual([
      ['S1/20250101_000000.WAV', 4],
      ['S1/deep/er/20250101_000100.WAV', 2],
      ['S2/20250101_000000.wav', 1],
    ]);
    // .DS_Store, Thumbs.db, desktop.ini, ._ file; .Spotlight-V100, System Volume Information, .cache as folders.
    expect(found.skippedHidden).toBe(7);
    expect(found.skippedSymlinks).toBe(2);
    expect(found.bytes).toBe(7);
    expect(found.files[0]?.absolutePath).toBe(path.join(root, 'S1/20250101_000000.WAV'));
  });

  it('follows symlinks when asked', async () => {
    const found = await discover(root, { followSymlinks: true });
    expect(found.files.map((f) => f.relativePath)).toEqual(
      expect.arrayContaining(['S2/link.WAV', 'linked-folder/elsewhere.WAV']),
    );
    expect(found.skippedSymlinks).toBe(0);
  });

  it('applies --include and --exclude to the relative path', async () => {
    const only = await discover(root, { include: ['S1/**'] });
    expect(only.files.map((f) => f.relativePath)).toEqual(['S1/20250101_000000.WAV', 'S1/deep/er/20250101_000100.WAV']);
    // The S2 recording and the two unfollowed symlinks (patterns are applied before the symlink check).
    expect(only.skippedByPattern).toBe(3);
    const without = await discover(root, { exclude: ['**/deep/**', '*.wav', '**/*.wav'] });
    expect(without.files.map((f) => f.relativePath)).toEqual(['S1/20250101_000000.WAV']);
  });
});
