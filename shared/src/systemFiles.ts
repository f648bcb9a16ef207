/** Names operating systems and card readers leave behind; never field recordings. */
const systemNames = new Set(['.ds_store', 'thumbs.db', 'desktop.ini', '.spotlight-v100', '.trashes', '.fseventsd']);
const systemFolders = new Set(['system volume information', '$recycle.bin']);

/** Hidden or system: any dot-name (AppleDouble `._x` included), or one of the well-known system names. */
export function isHiddenOrSystem(name: string): boolean {
  const lower = name.toLowerCase();
  return name.startsWith('.') || systemNames.has(lower) || systemFolders.has(lower);
}
