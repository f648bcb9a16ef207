import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { isHiddenOrSystem } from '@data-uploader/shared';
import { fdir } from 'fdir';
import picomatch from 'picomatch';
import type { LocalFile } from '../driver/uploadDriver.ts';

export interface DiscoveryOptions {
  include?: string[];
  exclude?: string[];
  followSymlinks?: boolean;
}

export interface Discovery {
  files: LocalFile[];
  /** Hidden and system files and folders left out (a folder counts once, its contents are not walked). */
  skippedHidden: number;
  skippedSymlinks: number;
  /** Left out by --include / --exclude. */
  skippedByPattern: number;
  bytes: number;
}

const statsInFlight = 256;

/**
 * Lists a folder with fdir (a 300k-file card dump in seconds), relative paths with `/` on every platform, and
 * then stats the survivors with bounded concurrency. Globs match the relative path (`dot: true`, so an explicit
 * --include can never be defeated by picomatch's own dot rule; hidden names are already filtered).
 */
export async function discover(root: string, options: DiscoveryOptions = {}): Promise<Discovery> {
  const absoluteRoot = path.resolve(root);
  let skippedHidden = 0;
  const include = options.include?.length ? picomatch(options.include, { dot: true }) : null;
  const exclude = options.exclude?.length ? picomatch(options.exclude, { dot: true }) : null;
  let skippedByPattern = 0;

  let crawler = new fdir()
    .withRelativePaths()
    .withPathSeparator('/')
    .exclude((name) => {
      if (!isHiddenOrSystem(name)) return false;
      skippedHidden++;
      return true;
    })
    .filter((relativePath) => {
      if (isHiddenOrSystem(path.posix.basename(relativePath))) {
        skippedHidden++;
        return false;
      }
      if ((include && !include(relativePath)) || exclude?.(relativePath)) {
        skippedByPattern++;
        return false;
      }
      return true;
    });
  if (options.followSymlinks) crawler = crawler.withSymlinks({ resolvePaths: false });
  const relativePaths = await crawler.crawl(absoluteRoot).withPromise();

  let skippedSymlinks = 0;
  const found: Array<LocalFile | null> = [];
  // Windows of plain Promise.all: as parallel as a pool (network drives need that), without a pool's per-task
  // cost, which is most of the time at 100k files (p-limit: 2.5 s, windows: 0.7 s, on a local disk).
  for (let start = 0; start < relativePaths.length; start += statsInFlight) {
    const window = relativePaths.slice(start, start + statsInFlight);
    const stats = await Promise.all(
      window.map(async (relativePath): Promise<LocalFile | null> => {
        const absolutePath = path.join(absoluteRoot, relativePath);
        // Unfollowed symlinks are listed by fdir as plain entries; lstat tells them apart.
        const info = options.followSymlinks ? await stat(absolutePath) : await lstat(absolutePath);
        if (info.isSymbolicLink()) {
          skippedSymlinks++;
          return null;
        }
        if (!info.isFile()) return null;
        return { relativePath, absolutePath, size: info.size, lastModified: Math.trunc(info.mtimeMs) };
      }),
    );
    found.push(...stats);
  }
  const files = found.filter((file): file is LocalFile => file !== null);
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  const bytes = files.reduce((sum, file) => sum + file.size, 0);
  return { files, skippedHidden, skippedSymlinks, skippedByPattern, bytes };
}
