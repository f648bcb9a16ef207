import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration, printablePath } from './format.ts';

describe('formatBytes', () => {
  it('keeps whole bytes and uses one decimal below 100 of a unit', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 KB');
    expect(formatBytes(41_200_000_000)).toBe('41.2 GB');
    expect(formatBytes(512_000_000)).toBe('512 MB');
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(-5)).toBe('0 s');
  });
});

describe('formatCount', () => {
  it('groups thousands', () => {
    expect(formatCount(12_340)).toBe('12,340');
  });
});

describe('printablePath', () => {
  it('writes invisible and reordering characters as escapes and leaves every other name as it is', () => {
    expect(printablePath('950349/a\u202Egpj.wav')).toBe('950349/a\\u202Egpj.wav');
    expect(printablePath('new\nline\ttab\u0000\u007F\u0085.wav')).toBe(
      'new\\u000Aline\\u0009tab\\u0000\\u007F\\u0085.wav',
    );
    expect(printablePath('zero\u200Bwidth\uFEFF\u2028')).toBe('zero\\u200Bwidth\\uFEFF\\u2028');
    expect(printablePath('broken\uD800.wav')).toBe('broken\\uD800.wav');
    expect(printablePath('back\\slash\\u202E.wav')).toBe('back\\\\slash\\\\u202E.wav');
    for (const plain of ['950349/2025-09-09T09:20:00.WAV', '名前 🚀.wav', 'é', 'a<b>|c?*"d', 'ends. ']) {
      expect(printablePath(plain)).toBe(plain);
    }
  });
});
