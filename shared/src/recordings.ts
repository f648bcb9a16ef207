/**
 * `YYYYMMDD_HHMMSS` (AudioMoth, Song Meter) or `YYYYMMDD-HHMMSS` anywhere in the file name, as an ISO time
 * without a zone: recorders write local or UTC time depending on their settings, and the name does not say.
 */
const stamp = /(?<!\d)(\d{4})(\d{2})(\d{2})[_-](\d{2})(\d{2})(\d{2})(?!\d)/;

const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Checked by hand rather than through Date, which rolls 20250230 or 256100 over instead of failing: planning
// calls this for each of 300k names.
export function recordingTime(fileName: string): string | null {
  const match = stamp.exec(fileName);
  if (!match) return null;
  const [, year = '', month = '', day = '', hour = '', minute = '', second = ''] = match;
  const [y, mo, d] = [Number(year), Number(month), Number(day)];
  const monthDays = mo === 2 && isLeapYear(y) ? 29 : (daysInMonth[mo - 1] ?? 0);
  // Years before 100 are refused, as Date.UTC would have read them as 19xx.
  if (y < 100 || d < 1 || d > monthDays || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    return null;
  }
  return `${year}-${month}-${day}T${hour}:${minute}:${second}`;
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
