/**
 * `YYYYMMDD_HHMMSS` (AudioMoth, Song Meter) or `YYYYMMDD-HHMMSS` anywhere in the file name, as an ISO time
 * without a zone: recorders write local or UTC time depending on their settings, and the name does not say.
 */
const stamp = /(?<!\d)(\d{4})(\d{2})(\d{2})[_-](\d{2})(\d{2})(\d{2})(?!\d)/;

export function recordingTime(fileName: string): string | null {
  const match = stamp.exec(fileName);
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year as number, (month as number) - 1, day, hour, minute, second));
  // Rejects 20250230 or 256100: Date.UTC rolls them over instead of failing.
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== (month as number) - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  ) {
    return null;
  }
  return date.toISOString().slice(0, 19);
}

export interface SensorSummary {
  sensor: string;
  files: number;
  bytes: number;
  firstRecording: string | null;
  lastRecording: string | null;
}

/** Files at the top of the folder, outside any sensor folder. */
export const topLevel = '(top level)';

/** The sensor folder a file belongs to: the first segment of its relative path. */
export function sensorOf(relativePath: string): string {
  const slash = relativePath.indexOf('/');
  return slash === -1 ? topLevel : relativePath.slice(0, slash);
}

/** Per sensor folder (the first path segment): files, bytes and the span of recording times in the names. */
export function summariseSensors(files: Iterable<{ relativePath: string; size: number }>): SensorSummary[] {
  const sensors = new Map<string, SensorSummary>();
  for (const file of files) {
    const sensor = sensorOf(file.relativePath);
    let summary = sensors.get(sensor);
    if (!summary) {
      summary = { sensor, files: 0, bytes: 0, firstRecording: null, lastRecording: null };
      sensors.set(sensor, summary);
    }
    summary.files++;
    summary.bytes += file.size;
    const time = recordingTime(file.relativePath.slice(file.relativePath.lastIndexOf('/') + 1));
    if (time) {
      if (!summary.firstRecording || time < summary.firstRecording) summary.firstRecording = time;
      if (!summary.lastRecording || time > summary.lastRecording) summary.lastRecording = time;
    }
  }
  return [...sensors.values()].sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
}
