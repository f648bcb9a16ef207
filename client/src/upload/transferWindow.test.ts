import { describe, expect, it } from 'vitest';
import { TransferWindow } from './transferWindow.ts';

function filled(count: number) {
  const window = new TransferWindow<number>(10, 4);
  for (let i = 0; i < count; i++) window.push(i);
  return window;
}

describe('TransferWindow', () => {
  it('hands out at most a window of files, in the order they were planned', () => {
    const window = filled(25);
    const first = window.nextBatch();
    expect(first).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const item of first) window.enter(`f${item}`, item);
    expect(window.nextBatch()).toEqual([]);
    expect(window.waiting).toBe(15);
  });

  it('tops up only once enough places are free, and then fills them all', () => {
    const window = filled(25);
    for (const item of window.nextBatch()) window.enter(`f${item}`, item);
    for (const id of ['f0', 'f1', 'f2']) window.leave(id);
    expect(window.nextBatch()).toEqual([]);
    window.leave('f3');
    expect(window.nextBatch()).toEqual([10, 11, 12, 13]);
  });

  it('fills an empty window even with few waiting, and is drained only when both sides are empty', () => {
    const window = filled(2);
    const batch = window.nextBatch();
    expect(batch).toEqual([0, 1]);
    expect(window.drained).toBe(false);
    window.enter('a', 0);
    window.leave('a');
    expect(window.drained).toBe(false);
    window.enter('b', 1);
    window.leave('b');
    expect(window.drained).toBe(true);
    window.push(7);
    expect(window.drained).toBe(false);
    expect(window.nextBatch()).toEqual([7]);
  });

  it('counts a batch being prepared as inside, until its files enter or are abandoned', () => {
    const window = filled(30);
    expect(window.nextBatch()).toHaveLength(10);
    expect(window.nextBatch()).toEqual([]);
    window.abandon(10);
    expect(window.inside).toBe(0);
  });

  it('never holds more than its size across a long run', () => {
    const window = filled(30_000);
    let inside: number[] = [];
    let handedOut = 0;
    while (!window.drained) {
      for (const item of window.nextBatch()) {
        window.enter(String(item), item);
        inside.push(item);
        handedOut++;
      }
      expect(window.inside).toBeLessThanOrEqual(10);
      const done = inside.slice(0, 3);
      inside = inside.slice(3);
      for (const item of done) window.leave(String(item));
    }
    expect(handedOut).toBe(30_000);
  });

  it('sends files that failed before those never tried, and only those when asked', () => {
    const window = filled(25);
    for (const item of window.nextBatch()) window.enter(`f${item}`, item);
    for (const id of ['f0', 'f1', 'f2', 'f3', 'f4']) window.leave(id);
    window.pushAgain(1);
    window.pushAgain(3);
    expect(window.waiting).toBe(17);
    expect(window.nextBatch({ onlyAgain: true })).toEqual([1, 3]);
    window.enter('g1', 1);
    window.enter('g3', 3);
    for (const id of ['f5', 'f6', 'f7', 'g1']) window.leave(id);
    expect(window.nextBatch({ onlyAgain: true })).toEqual([]);
    window.pushAgain(6);
    expect(window.nextBatch()).toEqual([6, 10, 11, 12, 13, 14, 15]);
    window.clear();
    expect(window.waiting).toBe(0);
  });
});
