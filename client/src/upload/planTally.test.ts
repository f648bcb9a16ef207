import { describe, expect, it } from 'vitest';
import { listedAtMost, PlanTally } from './planTally.ts';

describe('PlanTally', () => {
  it('counts files and bytes per decision and per sensor folder, sending only upload and resume', () => {
    const tally = new PlanTally();
    tally.add({ relativePath: 'S2/a.wav', decision: 'upload', size: 10 });
    tally.add({ relativePath: 'S1/b.wav', decision: 'skip', size: 20 });
    tally.add({ relativePath: 'S1/c.wav', decision: 'resume', size: 30 });
    tally.add({ relativePath: 'S1/d.wav', decision: 'conflict', size: 40, reason: 'already uploaded' });
    tally.add({ relativePath: 'bad\u0001name', decision: 'invalid', size: 5, reason: 'control character' });

    expect(tally.planned).toBe(5);
    expect(tally.toSend).toEqual({ files: 2, bytes: 40 });
    expect(tally.totals.skip).toEqual({ files: 1, bytes: 20 });
    expect(tally.sensors().map((s) => [s.sensor, s.found.files, s.toSend.bytes])).toEqual([
      ['(top level)', 1, 0],
      ['S1', 3, 30],
      ['S2', 1, 10],
    ]);
    expect(tally.conflicts.map((c) => c.reason)).toEqual(['already uploaded']);
    expect(tally.invalid.map((c) => c.relativePath)).toEqual(['bad\u0001name']);
  });

  it('keeps exact counts but lists only the first few hundred problem files', () => {
    const tally = new PlanTally();
    for (let i = 0; i < listedAtMost + 50; i++) {
      tally.add({ relativePath: `S/${i}`, decision: 'invalid', size: 1, reason: 'x' });
    }
    expect(tally.totals.invalid.files).toBe(listedAtMost + 50);
    expect(tally.invalid).toHaveLength(listedAtMost);
  });

  it('forgets conflicts once the person chose to overwrite them', () => {
    const tally = new PlanTally();
    tally.add({ relativePath: 'S/a', decision: 'conflict', size: 3, reason: 'other size' });
    tally.forgetConflicts();
    expect(tally.totals.conflict).toEqual({ files: 0, bytes: 0 });
    expect(tally.conflicts).toHaveLength(0);
  });
});
