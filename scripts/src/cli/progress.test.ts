import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { Progress } from './progress.ts';

let stderr: MockInstance;
let stdout: MockInstance;
const lines = (spy: MockInstance) => spy.mock.calls.map(([text]) => String(text));

beforeEach(() => {
  vi.useFakeTimers();
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const planned = (upload: number) => ({ type: 'planned' as const, upload, resume: 0, skip: 0, conflict: 0, invalid: 0 });

describe('Progress off a terminal', () => {
  it('writes a line every 10,000 files and every 30 s, nothing in between', () => {
    const progress = new Progress('plain');
    progress.handle(planned(25_000));
    for (let i = 0; i < 9_999; i++) progress.handle({ type: 'file-done', key: `k${i}`, bytes: 10 });
    expect(lines(stderr)).toEqual([]);
    progress.handle({ type: 'file-done', key: 'k9999', bytes: 10 });
    expect(lines(stderr)).toHaveLength(1);
    expect(lines(stderr)[0]).toMatch(/ 10000\/25000 files, 97\.7 KiB, .* 0 failed, ETA /);
    vi.advanceTimersByTime(29_000);
    expect(lines(stderr)).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(lines(stderr)).toHaveLength(2);
    progress.stop();
  });

  it('counts multipart bytes by part, once', () => {
    const progress = new Progress('plain');
    progress.handle(planned(2));
    progress.handle({ type: 'part-done', key: 'big', partNumber: 1, bytes: 5 });
    progress.handle({ type: 'part-done', key: 'big', partNumber: 2, bytes: 3 });
    progress.handle({ type: 'file-done', key: 'big', bytes: 8 });
    progress.handle({ type: 'file-done', key: 'small', bytes: 2 });
    expect(progress.snapshot()).toMatchObject({ filesDone: 2, bytesDone: 10 });
    progress.stop();
  });
});

describe('Progress in --json mode', () => {
  it('writes only JSON lines on stdout: planned, failures and timed progress', () => {
    const progress = new Progress('json');
    progress.handle(planned(3));
    progress.handle({ type: 'file-done', key: 'a', bytes: 1 });
    progress.handle({ type: 'file-failed', key: 'b', error: '403 AccessDenied: no' });
    vi.advanceTimersByTime(1_000);
    progress.stop();
    const events = lines(stdout).map((line) => JSON.parse(line));
    expect(events.map((event) => event.type)).toEqual(['planned', 'file-failed', 'progress']);
    expect(events[2]).toMatchObject({ filesDone: 1, filesFailed: 1, filesTotal: 3 });
    expect(lines(stderr)).toEqual([]);
  });
});
