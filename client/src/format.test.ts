import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, formatDuration } from './format.ts';

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
