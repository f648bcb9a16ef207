import { describe, expect, it } from 'vitest';
import { maxAttempts } from './retryPolicy.ts';
import { RetryQueue } from './retryQueue.ts';

function clocked() {
  const clock = { now: 0 };
  const queue = new RetryQueue<string>(
    () => clock.now,
    () => 1,
  );
  return { clock, queue };
}

describe('RetryQueue', () => {
  it('gives a failed item back once its pause is over, the pause doubling with each failure of that key', () => {
    const { clock, queue } = clocked();
    expect(queue.failed('a', 'A')).toBe(1000);
    expect(queue.due()).toEqual([]);
    expect(queue.nextDueIn()).toBe(1000);
    clock.now = 1000;
    expect(queue.due()).toEqual(['A']);
    expect(queue.size).toBe(0);
    expect(queue.failed('a', 'A')).toBe(2000);
    expect(queue.failed('b', 'B')).toBe(1000);
    clock.now = 2500;
    expect(queue.due()).toEqual(['B']);
    expect(queue.nextDueIn()).toBe(500);
    clock.now = 3000;
    expect(queue.due()).toEqual(['A']);
    expect(queue.nextDueIn()).toBeNull();
  });

  it('is failing from a transient failure until something goes through, which also resets that key', () => {
    const { clock, queue } = clocked();
    expect(queue.failing).toBe(false);
    queue.failed('a', 'A');
    expect(queue.failing).toBe(true);
    clock.now = 10_000;
    queue.due();
    expect(queue.failing).toBe(true);
    queue.succeeded('a');
    expect(queue.failing).toBe(false);
    expect(queue.failed('a', 'A')).toBe(1000);
  });

  it('gives a key up after its attempts, and then counts afresh', () => {
    const { clock, queue } = clocked();
    for (let attempt = 1; attempt < maxAttempts; attempt++) {
      expect(queue.failed('a', 'A')).not.toBeNull();
      clock.now += 60_000;
      expect(queue.due()).toEqual(['A']);
    }
    expect(queue.failed('a', 'A')).toBeNull();
    expect(queue.size).toBe(0);
    expect(queue.failing).toBe(false);
    expect(queue.failed('a', 'A')).toBe(1000);
  });

  it('gives every waiting item back at once when hurried', () => {
    const { queue } = clocked();
    queue.failed('a', 'A');
    queue.failed('b', 'B');
    expect(queue.nextDueIn()).toBe(1000);
    queue.hurry();
    expect(queue.nextDueIn()).toBe(0);
    expect(queue.due()).toEqual(['A', 'B']);
  });

  it('forgets everything on clear', () => {
    const { queue } = clocked();
    queue.failed('a', 'A');
    queue.clear();
    expect(queue.size).toBe(0);
    expect(queue.failing).toBe(false);
    expect(queue.due()).toEqual([]);
  });
});
