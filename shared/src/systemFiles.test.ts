import { describe, expect, it } from 'vitest';
import { isHiddenOrSystem } from './systemFiles.ts';

describe('isHiddenOrSystem', () => {
  it('knows the usual junk, case-insensitively, and leaves recordings alone', () => {
    for (const name of ['.DS_Store', 'THUMBS.DB', 'Desktop.ini', '._x.WAV', '.Trashes', 'system volume information']) {
      expect(isHiddenOrSystem(name)).toBe(true);
    }
    for (const name of ['20250101_000000.WAV', 'Thumbs.db.wav', 'S4A01234']) expect(isHiddenOrSystem(name)).toBe(false);
  });
});
