import { recordingTime, type SensorSummary, sensorOf, summariseSensors } from './recordings.ts';

/** A file as the folder reader sees it; `lastModified` in milliseconds since the epoch. */
export interface ManifestFile {
  relativePath: string;
  size: number;
  lastModified?: number;
}

export interface FileType {
  /** Lower-case extension without the dot, or `(none)`. */
  extension: string;
  files: number;
  bytes: number;
}

/** A stretch between two consecutive recordings longer than `gapFactor` times the usual interval. */
export interface RecordingGap {
  after: string;
  before: string;
  seconds: number;
}

/**
 * A sensor folder's manifest. `firstRecording` and `lastRecording` here also count files whose names carry no
 * stamp (camera traps' `IMG_0001.JPG`), by their last-modified time; `timesFromNames` says how many did not.
 */
export interface SensorManifest extends SensorSummary {
  fileTypes: FileType[];
  timesFromNames: number;
  timesFromModified: number;
  /** The median interval between consecutive recordings, in seconds; null with fewer than two times. */
  usualIntervalSeconds: number | null;
  gaps: RecordingGap[];
  gapCount: number;
  /** The most common name shape (digits as `9`), when at least half the files share it. */
  namePattern: string | null;
  offPattern: { count: number; examples: string[] };
}

/** How many times the usual interval a pause must last to count as a gap. */
export const gapFactor = 3;
const maxGaps = 50;
const maxExamples = 5;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '(none)';
}

/** A name's shape: every digit becomes 9, so `20250909_092000.WAV` and `20250910_000000.WAV` match. */
export const nameShape = (name: string) => name.replace(/\d/g, '9');

/** Recordings and pictures; a card's logs and settings (`CONFIG.TXT`, summaries) are not recordings. */
const mediaExtensions = new Set(
  [
    'wav',
    'flac',
    'mp3',
    'm4a',
    'ogg',
    'opus',
    'wac',
    'w4v',
    'aif',
    'aiff',
    'zc',
    'jpg',
    'jpeg',
    'png',
    'tif',
    'tiff',
  ].concat(['heic', 'dng', 'cr2', 'nef', 'arw', 'raw', 'mp4', 'mov', 'avi', 'mts', 'm4v', 'mkv', 'wmv']),
);

/**
 * The recording time of a file as milliseconds: from its name, or else, for a recording or picture whose name
 * carries none (`IMG_0001.JPG`), its last-modified time.
 */
function timeOf(file: ManifestFile): { ms: number; fromName: boolean } | null {
  const fromName = recordingTime(baseName(file.relativePath));
  if (fromName) return { ms: Date.parse(`${fromName}Z`), fromName: true };
  if (!mediaExtensions.has(extensionOf(baseName(file.relativePath)))) return null;
  if (file.lastModified !== undefined && Number.isFinite(file.lastModified)) {
    return { ms: file.lastModified, fromName: false };
  }
  return null;
}

const isoOf = (ms: number) => new Date(ms).toISOString().slice(0, 19);

function fileTypesOf(files: ManifestFile[]): FileType[] {
  const types = new Map<string, FileType>();
  for (const file of files) {
    const extension = extensionOf(baseName(file.relativePath));
    const type = types.get(extension) ?? { extension, files: 0, bytes: 0 };
    type.files++;
    type.bytes += file.size;
    types.set(extension, type);
  }
  return [...types.values()].sort((a, b) => b.files - a.files || (a.extension < b.extension ? -1 : 1));
}

function median(sorted: number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Pauses longer than `gapFactor` times the median interval. Identical times (bursts of a camera trap) are not
 * intervals, so they cannot pull the median to zero.
 */
function gapsOf(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const intervals: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const interval = (sorted[i] as number) - (sorted[i - 1] as number);
    if (interval > 0) intervals.push(interval);
  }
  if (intervals.length === 0) return { usualIntervalSeconds: null, gaps: [], gapCount: 0 };
  const usual = median([...intervals].sort((a, b) => a - b));
  const gaps: RecordingGap[] = [];
  let gapCount = 0;
  for (let i = 1; i < sorted.length; i++) {
    const after = sorted[i - 1] as number;
    const before = sorted[i] as number;
    if (before - after <= gapFactor * usual) continue;
    gapCount++;
    if (gaps.length < maxGaps)
      gaps.push({ after: isoOf(after), before: isoOf(before), seconds: (before - after) / 1000 });
  }
  return { usualIntervalSeconds: usual / 1000, gaps, gapCount };
}

function patternOf(files: ManifestFile[]) {
  const shapes = files.map((file) => nameShape(baseName(file.relativePath)));
  const counts = new Map<string, number>();
  for (const shape of shapes) counts.set(shape, (counts.get(shape) ?? 0) + 1);
  let namePattern: string | null = null;
  let best = 0;
  for (const [shape, count] of counts) {
    if (count > best || (count === best && namePattern !== null && shape < namePattern)) {
      namePattern = shape;
      best = count;
    }
  }
  if (best * 2 < files.length) return { namePattern: null, offPattern: { count: 0, examples: [] } };
  const off = files.filter((_, i) => shapes[i] !== namePattern).map((file) => file.relativePath);
  return { namePattern, offPattern: { count: off.length, examples: off.sort().slice(0, maxExamples) } };
}

function manifestOf(summary: SensorSummary, files: ManifestFile[]): SensorManifest {
  const times: number[] = [];
  let timesFromNames = 0;
  for (const file of files) {
    const time = timeOf(file);
    if (!time) continue;
    times.push(time.ms);
    if (time.fromName) timesFromNames++;
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const ms of times) {
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  return {
    ...summary,
    firstRecording: times.length ? isoOf(min) : null,
    lastRecording: times.length ? isoOf(max) : null,
    fileTypes: fileTypesOf(files),
    timesFromNames,
    timesFromModified: times.length - timesFromNames,
    ...gapsOf(times),
    ...patternOf(files),
  };
}

/**
 * The manifest of a folder, per sensor folder (the first path segment): files, bytes, types, the span of
 * recording times, gaps in the recording schedule and names that break the sensor's usual pattern.
 */
export function sensorManifest(files: ManifestFile[]): SensorManifest[] {
  const groups = new Map<string, ManifestFile[]>();
  for (const file of files) {
    const sensor = sensorOf(file.relativePath);
    const group = groups.get(sensor);
    if (group) group.push(file);
    else groups.set(sensor, [file]);
  }
  return summariseSensors(files).map((summary) => manifestOf(summary, groups.get(summary.sensor) ?? []));
}
