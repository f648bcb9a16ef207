/**
 * The pages `pnpm bench:browser` compares the upload page with, written into a static folder:
 * - bare.html: a drop zone that enumerates the dropped folder with the same API as the upload page
 *   (webkitGetAsEntry, readEntries until empty, FileEntry.file() for every file, reading its size), 64 files
 *   opened at once as the page's scan does (`?open=N` to change), and nothing else; it keeps no File.
 * - stock/index.html: stock Uppy (@uppy/core + @uppy/dashboard, the versions the client uses, no windowing,
 *   no uploader) built with the client's Vite; the Dashboard takes the drop itself.
 * Both report into `window.__bench` (made by the probes in browserKit.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clientRoot, loadVite } from './browserKit.ts';

const barePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bare enumeration</title><link rel="icon" href="data:,"></head>
<body>
<div id="zone" style="width:800px;height:400px;border:2px dashed #888">drop a folder here</div>
<script>
const bench = (window.__bench ??= { longtasks: [], dropAt: null, firstS3: null });
const zone = document.getElementById('zone');
for (const type of ['dragenter', 'dragover']) zone.addEventListener(type, (event) => event.preventDefault());
const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
const pageOf = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));
// Files opened at once: 64 as the upload page's scan (folderScan.ts), or ?open=N.
const openAtOnce = Number(new URLSearchParams(location.search).get('open') || 64);
async function enumerate(roots) {
  let files = 0;
  let bytes = 0;
  let toOpen = [];
  const openAll = async () => {
    const opened = await Promise.all(toOpen.map(fileOf));
    toOpen = [];
    for (const file of opened) {
      files += 1;
      bytes += file.size;
    }
  };
  const directories = [];
  const take = async (entries) => {
    for (const entry of entries) {
      if (entry.isDirectory) directories.push(entry);
      else toOpen.push(entry);
      if (toOpen.length >= openAtOnce) await openAll();
    }
  };
  await take(roots);
  while (directories.length > 0) {
    const reader = directories.shift().createReader();
    for (let page = await pageOf(reader); page.length > 0; page = await pageOf(reader)) await take(page);
  }
  await openAll();
  return { files, bytes };
}
zone.addEventListener('drop', (event) => {
  event.preventDefault();
  const roots = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry()).filter(Boolean);
  enumerate(roots).then(
    (result) => { bench.enumerated = { ...result, at: performance.now() }; },
    (error) => { bench.error = String(error); },
  );
});
</script>
</body></html>
`;

const stockHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>stock Uppy</title><link rel="icon" href="data:,"></head>
<body><div id="dashboard"></div><script type="module" src="./main.js"></script></body></html>
`;

/** The page as in the notes (shared/notes/uppy-scale.md): Dashboard inline, no uploader; Uppy's own drop path. */
const stockMain = `
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

const bench = (window.__bench ??= { longtasks: [], dropAt: null, firstS3: null });
const uppy = new Uppy({ autoProceed: false });
uppy.use(Dashboard, { inline: true, target: '#dashboard', fileManagerSelectionType: 'both', width: 750, height: 550 });
const addFiles = uppy.addFiles.bind(uppy);
uppy.addFiles = (files) => {
  bench.addFilesStart ??= performance.now();
  bench.addFilesCount = files.length;
  try {
    return addFiles(files);
  } finally {
    bench.addFilesEnd = performance.now();
  }
};
uppy.on('files-added', (files) => {
  bench.filesAdded = { at: performance.now(), count: files.length };
  setTimeout(() => requestAnimationFrame(() => setTimeout(() => {
    bench.rendered = performance.now();
    bench.inState = uppy.getFiles().length;
  })));
});
bench.ready = true;
`;

/** Writes bare.html and builds stock/ under `staticRoot`; `workDir` holds the stock page's sources. */
export async function writeComparisonPages(staticRoot: string, workDir: string) {
  await mkdir(staticRoot, { recursive: true });
  await writeFile(path.join(staticRoot, 'bare.html'), barePage);
  const source = path.join(workDir, 'stock-src');
  await mkdir(source, { recursive: true });
  await writeFile(path.join(source, 'index.html'), stockHtml);
  await writeFile(path.join(source, 'main.js'), stockMain);
  // The sources live outside the repo: @uppy/* is resolved as the client resolves it.
  const asClient = path.join(clientRoot, 'src', 'main.tsx');
  const { build } = await loadVite();
  await build({
    root: source,
    base: './',
    configFile: false,
    logLevel: 'warn',
    plugins: [
      {
        name: 'uppy-from-client',
        enforce: 'pre',
        async resolveId(
          this: { resolve(id: string, importer: string, options: object): Promise<unknown> },
          id: string,
          importer: string | undefined,
          options: object,
        ) {
          if (!id.startsWith('@uppy/') || !importer?.startsWith(source)) return null;
          return this.resolve(id, asClient, { ...options, skipSelf: true });
        },
      },
    ],
    build: {
      outDir: path.join(staticRoot, 'stock'),
      emptyOutDir: true,
      target: 'es2022',
      rolldownOptions: { checks: { bundlerTimings: false } },
    },
  });
}
