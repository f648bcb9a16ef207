import { describe, expect, it } from 'vitest';
import { recordingTime, sensorOf, summariseSensors, topLevel } from './recordings.ts';

describe('recordingTime', () => {
  it('reads AudioMoth / Song Meter names and the dashed form', () => {
    expect(recordingTime('20250909_092000.WAV')).toBe('2025-09-09T09:20:00');
    expect(recordingTime('S4A01234_20240229_235959.wav')).toBe('2024-02-29T23:59:59');
    expect(recordingTime('REC-20240305-061500.flac')).toBe('2024-03-05T06:15:00');
  });

  it('answers null for names without a real date and time', () => {
    expect(recordingTime('notes.txt')).toBeNull();
    expect(recordingTime('20250230_120000.WAV')).toBeNull(); // 30 February
    expect(recordingTime('20250101_246000.WAV')).toBeNull();
    expect(recordingTime('120250101_120000.WAV')).toBeNull(); // part of a longer number
    expect(recordingTime('20250101 120000.WAV')).toBeNull();
  });
});

describe('summariseSensors', () => {
  it('groups by first path segment with files, bytes and the span of recording times', () => {
    const file = (relativePath: string, size: number) => ({ relativePath, size, absolutePath: '', lastModified: 0 });
    expect(
      summariseSensors([
        file('B/20250102_000000.WAV', 5),
        file('A/x/20250103_000000.WAV', 1),
        file('A/20250101_120000.WAV', 2),
        file('A/readme.txt', 3),
        file('loose.txt', 4),
      ]),
    ).toEqual([
      { sensor: topLevel, files: 1, bytes: 4, firstRecording: null, lastRecording: null },
      { sensor: 'A', files: 3, bytes: 6, firstRecording: '2025-01-01T12:00:00', lastRecording: '2025-01-03T00:00:00' },
      { sensor: 'B', files: 1, bytes: 5, firstRecording: '2025-01-02T00:00:00', lastRecording: '2025-01-02T00:00:00' },
    ]);
  });
});

describe('sensorOf', () => {
  it('is the first path segment, or the top level for loose files', () => {
    expect(sensorOf('950349/sub/20250909_092000.WAV')).toBe('950349');
    expect(sensorOf('notes.txt')).toBe(topLevel);
  });
});
