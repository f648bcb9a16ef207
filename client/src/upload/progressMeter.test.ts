import { describe, expect, it } from 'vitest';
import { ProgressMeter } from './progressMeter.ts';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ProgressMeter', () => {
  it('adds finished files and in-flight bytes, per sensor folder', () => {
    const time = clock();
    const meter = new ProgressMeter(time.now);
    meter.progress('a', 400);
    meter.progress('a', 700);
    meter.progress('b', 100);
    meter.complete('a', 'S1/a.wav', 1000);
    const snapshot = meter.snapshot({ files: 3, bytes: 3000 });
    expect(snapshot.done).toEqual({ files: 1, bytes: 1000 });
    expect(snapshot.bytesMoved).toBe(1100);
    expect(snapshot.perSensor.get('S1')).toEqual({ files: 1, bytes: 1000 });
  });

  it('measures speed over the recent window and derives the ETA from the bytes left', () => {
    const time = clock();
    const meter = new ProgressMeter(time.now);
    expect(meter.snapshot({ files: 10, bytes: 10_000 }).etaMs).toBeNull();
    time.advance(2000);
    meter.complete('a', 'S/a', 2000);
    meter.complete('b', 'S/b', 2000);
    const snapshot = meter.snapshot({ files: 10, bytes: 10_000 });
    expect(snapshot.bytesPerSecond).toBe(2000);
    expect(snapshot.filesPerSecond).toBe(1);
    expect(snapshot.etaMs).toBe(3000);
  });

  it('forgets old samples, so speed falls to zero when nothing moves', () => {
    const time = clock();
    const meter = new ProgressMeter(time.now);
    meter.snapshot({ files: 1, bytes: 100 });
    time.advance(1000);
    meter.progress('a', 50);
    meter.snapshot({ files: 1, bytes: 100 });
    for (let i = 0; i < 12; i++) {
      time.advance(1000);
      meter.snapshot({ files: 1, bytes: 100 });
    }
    expect(meter.snapshot({ files: 1, bytes: 100 }).bytesPerSecond).toBe(0);
  });

  it('drops the bytes of a failed file and counts the failure until it is retried', () => {
    const meter = new ProgressMeter(clock().now);
    meter.progress('a', 500);
    meter.fail('a');
    expect(meter.snapshot({ files: 1, bytes: 1000 })).toMatchObject({ bytesMoved: 0, failed: 1 });
    meter.retry();
    expect(meter.snapshot({ files: 1, bytes: 1000 }).failed).toBe(0);
  });
});
