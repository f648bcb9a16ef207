import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportPathError, resolveImportPath } from './importPath.ts';

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'du-import-'));
  root = path.join(base, 'cards');
  outside = path.join(base, 'secrets');
  await mkdir(path.join(root, 'SD_01', '950349'), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(root, 'SD_01', 'file.wav'), 'x');
  await symlink(outside, path.join(root, 'escape'));
  await symlink(path.join(root, 'SD_01'), path.join(base, 'link-into-root'));
});

afterAll(() => rm(base, { recursive: true, force: true }));

const refusal = (roots: string[], requested: string) =>
  resolveImportPath(roots, requested).then(
    () => 'accepted',
    (error: unknown) => (error instanceof ImportPathError ? error.message : `unexpected ${String(error)}`),
  );

describe('resolveImportPath', () => {
  it('accepts a folder inside a root, and the root itself, resolved', async () => {
    expect(await resolveImportPath([root], path.join(root, 'SD_01'))).toBe(path.join(root, 'SD_01'));
    expect(await resolveImportPath([outside, root], root)).toBe(root);
    expect(await resolveImportPath([root], path.join(base, 'link-into-root'))).toBe(path.join(root, 'SD_01'));
  });

  it('refuses what leads out of the roots: .., a symlink, a sibling with the same prefix', async () => {
    expect(await refusal([root], path.join(root, 'SD_01', '..', '..', 'secrets'))).toMatch(/outside the folders/);
    expect(await refusal([root], path.join(root, 'escape'))).toMatch(/outside the folders/);
    await mkdir(`${root}-evil`, { recursive: true });
    expect(await refusal([root], `${root}-evil`)).toMatch(/outside the folders/);
  });

  it('refuses relative paths, control characters, files, missing folders and a server without roots', async () => {
    expect(await refusal([root], 'cards/SD_01')).toMatch(/full path/);
    expect(await refusal([root], `${root}/SD\u0000`)).toMatch(/control characters/);
    expect(await refusal([root], path.join(root, 'SD_01', 'file.wav'))).toMatch(/not a folder/);
    expect(await refusal([root], path.join(root, 'nope'))).toMatch(/No folder/);
    expect(await refusal([], root)).toMatch(/IMPORT_ROOTS/);
  });
});
