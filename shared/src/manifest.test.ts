import { describe, expect, it } from 'vitest';
import { type ManifestFile, nameShape, sensorManifest } from './manifest.ts';
import { topLevel } from './recordings.ts';

const stamp = (ms: number) =>
  new Date(ms).toISOString().slice(0, 19).replace(/-/g, '').replace('T', '_').replace(/:/g, '');

/** An AudioMoth schedule: one file every `minutes` from `start`, skipping the indexes in `missing`. */
function audioMoth(sensor: string, start: string, count: number, minutes: number, missing = new Set<number>()) {
  const files: ManifestFile[] = [];
  for (let i = 0; i < count; i++) {
    if (missing.has(i)) continue;
    const ms = Date.parse(`${start}Z`) + i * minutes * 60_000;
    files.push({ relativePath: `${sensor}/${stamp(ms)}.WAV`, size: 1000 });
  }
  return files;
}

describe('sensorManifest', () => {
  it('summarises an AudioMoth deployment recording every 10 minutes', () => {
    const [moth] = sensorManifest(audioMoth('AM-01', '2025-06-01T00:00:00', 144, 10));
    expect(moth).toMatchObject({
      sensor: 'AM-01',
      files: 144,
      bytes: 144_000,
      firstRecording: '2025-06-01T00:00:00',
      lastRecording: '2025-06-01T23:50:00',
      fileTypes: [{ extension: 'wav', files: 144, bytes: 144_000 }],
      timesFromNames: 144,
      timesFromModified: 0,
      usualIntervalSeconds: 600,
      gaps: [],
      gapCount: 0,
      namePattern: '99999999_999999.WAV',
      offPattern: { count: 0, examples: [] },
    });
  });

  it('finds a battery failure as a gap longer than three usual intervals, but not one missed file', () => {
    const missing = new Set([10, 50, 51, 52, 53, 54]); // one lost file, then 50 minutes without power
    const [moth] = sensorManifest(audioMoth('AM-02', '2025-06-01T00:00:00', 100, 10, missing));
    expect(moth?.gapCount).toBe(1);
    expect(moth?.gaps).toEqual([{ after: '2025-06-01T08:10:00', before: '2025-06-01T09:10:00', seconds: 3600 }]);
  });

  it('reads Song Meter names with a prefix and the dashed form, per sensor folder, sorted', () => {
    const manifest = sensorManifest([
      { relativePath: 'SMM07257/Data/SMM07257_20240301_051500.wav', size: 10 },
      { relativePath: 'SMM07257/Data/SMM07257_20240301_053000.wav', size: 10 },
      { relativePath: 'SMM07257/Data/SMM07257_20240301_054500.wav', size: 10 },
      { relativePath: 'SMM07257/SMM07257_Summary.txt', size: 3 },
      { relativePath: 'Recorder B/REC-20240302-060000.flac', size: 7 },
      { relativePath: 'Recorder B/REC-20240302-061500.flac', size: 7 },
    ]);
    expect(manifest.map((m) => m.sensor)).toEqual(['Recorder B', 'SMM07257']);
    const [recorder, songMeter] = manifest;
    expect(recorder).toMatchObject({ files: 2, bytes: 14, firstRecording: '2024-03-02T06:00:00' });
    expect(recorder?.namePattern).toBe('REC-99999999-999999.flac');
    expect(songMeter).toMatchObject({
      files: 4,
      bytes: 33,
      firstRecording: '2024-03-01T05:15:00',
      lastRecording: '2024-03-01T05:45:00',
      usualIntervalSeconds: 900,
      namePattern: 'SMM99999_99999999_999999.wav',
      offPattern: { count: 1, examples: ['SMM07257/SMM07257_Summary.txt'] },
      fileTypes: [
        { extension: 'wav', files: 3, bytes: 30 },
        { extension: 'txt', files: 1, bytes: 3 },
      ],
    });
  });

  it('falls back to last-modified times for camera-trap IMG_ names, bursts included', () => {
    const t0 = Date.parse('2025-07-04T12:00:00Z');
    const files: ManifestFile[] = [
      { relativePath: 'CAM07/100RECNX/IMG_0001.JPG', size: 2, lastModified: t0 },
      { relativePath: 'CAM07/100RECNX/IMG_0002.JPG', size: 2, lastModified: t0 }, // same second: a burst
      { relativePath: 'CAM07/100RECNX/IMG_0003.JPG', size: 2, lastModified: t0 + 3600_000 },
      { relativePath: 'CAM07/100RECNX/IMG_0004.JPG', size: 2, lastModified: t0 + 7200_000 },
      { relativePath: 'CAM07/100RECNX/IMG_0005.MP4', size: 9 },
    ];
    const [camera] = sensorManifest(files);
    expect(camera).toMatchObject({
      firstRecording: '2025-07-04T12:00:00',
      lastRecording: '2025-07-04T14:00:00',
      timesFromNames: 0,
      timesFromModified: 4,
      usualIntervalSeconds: 3600,
      gapCount: 0,
      namePattern: 'IMG_9999.JPG',
      offPattern: { count: 1, examples: ['CAM07/100RECNX/IMG_0005.MP4'] },
    });
    expect(camera?.fileTypes.map((t) => t.extension)).toEqual(['jpg', 'mp4']);
  });

  it('flags messy names: copies, system files, broken stamps, a lower-case extension', () => {
    const files = [
      ...audioMoth('AM-03', '2025-06-01T00:00:00', 20, 5),
      { relativePath: 'AM-03/20250601_000500 (1).WAV', size: 1000 },
      { relativePath: 'AM-03/.DS_Store', size: 6 },
      { relativePath: 'AM-03/CONFIG.TXT', size: 1 },
      { relativePath: 'AM-03/20250230_120000.WAV', size: 1000 },
      { relativePath: 'AM-03/20250601_010000.wav', size: 1000 },
      { relativePath: 'AM-03/Thumbs.db', size: 1 },
      { relativePath: 'AM-03/notes', size: 1 },
    ];
    const [moth] = sensorManifest(files);
    expect(moth?.files).toBe(27);
    expect(moth?.namePattern).toBe('99999999_999999.WAV');
    // The 30 February has the usual shape but no time; it shows in the file count, not in the span.
    expect(moth?.offPattern.count).toBe(6);
    expect(moth?.offPattern.examples).toEqual([
      'AM-03/.DS_Store',
      'AM-03/20250601_000500 (1).WAV',
      'AM-03/20250601_010000.wav',
      'AM-03/CONFIG.TXT',
      'AM-03/Thumbs.db',
    ]);
    expect(moth?.timesFromNames).toBe(22);
    expect(moth?.fileTypes.find((t) => t.extension === '(none)')).toEqual({ extension: '(none)', files: 2, bytes: 7 });
  });

  it('claims no pattern when no name shape holds half the files', () => {
    const [mixed] = sensorManifest([
      { relativePath: 'X/a.wav', size: 1 },
      { relativePath: 'X/bb.wav', size: 1 },
      { relativePath: 'X/ccc.wav', size: 1 },
    ]);
    expect(mixed).toMatchObject({ namePattern: null, offPattern: { count: 0, examples: [] } });
    expect(mixed).toMatchObject({ firstRecording: null, usualIntervalSeconds: null, gaps: [] });
  });

  it('puts loose files at the top level and answers nothing for an empty folder', () => {
    expect(sensorManifest([])).toEqual([]);
    expect(sensorManifest([{ relativePath: '20250101_000000.WAV', size: 5 }])[0]?.sensor).toBe(topLevel);
  });

  it('stays fast for 100,000 files', () => {
    const files = Array.from({ length: 10 }, (_, s) =>
      audioMoth(`AM-${s}`, '2025-01-01T00:00:00', 10_000, 1, new Set([5000])),
    ).flat();
    const started = Date.now();
    const manifest = sensorManifest(files);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(manifest).toHaveLength(10);
    expect(manifest.every((m) => m.gapCount === 0 && m.files === 9999)).toBe(true);
  });
});

describe('nameShape', () => {
  it('keeps letters and punctuation and turns digits into 9', () => {
    expect(nameShape('S4A01234_20240229_235959.wav')).toBe('S9A99999_99999999_999999.wav');
  });

  it('takes last-modified times only from recordings and pictures, never from a card’s notes or settings', () => {
    const [sensor] = sensorManifest([
      { relativePath: 'AM-09/20250101_000000.WAV', size: 1 },
      { relativePath: 'AM-09/CONFIG.TXT', size: 1, lastModified: Date.UTC(2026, 10, 26) },
      { relativePath: 'AM-09/clip.wav', size: 1, lastModified: Date.UTC(2025, 0, 2) },
    ]);
    expect(sensor).toMatchObject({ firstRecording: '2025-01-01T00:00:00', lastRecording: '2025-01-02T00:00:00' });
  });
});
