import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export class ImportPathError extends Error {}

/**
 * Where an import may read: a folder inside one of the operator's IMPORT_ROOTS, judged after every symlink
 * is followed (`realpath`), so neither `..` nor a link that leads out of a root gets through. Answers the
 * resolved folder, which is what the worker then reads.
 */
export async function resolveImportPath(roots: string[], requested: string): Promise<string> {
  if (roots.length === 0) {
    throw new ImportPathError(
      'This server allows no imports: the operator sets IMPORT_ROOTS to the folders it may read',
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
  if (/[\u0000-\u001f\u007f]/.test(requested)) throw new ImportPathError('The path contains control characters');
  if (!path.isAbsolute(requested)) {
    throw new ImportPathError(`Give the full path of the folder, inside ${roots.join(' or ')}`);
  }
  let resolved: string;
  try {
    resolved = await realpath(requested);
  } catch {
    throw new ImportPathError(`No folder at ${requested}`);
  }
  if (!(await stat(resolved)).isDirectory()) throw new ImportPathError(`${requested} is not a folder`);
  for (const root of roots) {
    const resolvedRoot = await realpath(root).catch(() => null);
    if (!resolvedRoot) continue;
    const inside = path.relative(resolvedRoot, resolved);
    if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) return resolved;
  }
  throw new ImportPathError(`${requested} is outside the folders this server may import from (${roots.join(', ')})`);
}
