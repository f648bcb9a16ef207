import { describe, expect, it } from 'vitest';
import { RecordBatcher } from './recordBatcher.ts';

describe('RecordBatcher', () => {
  it('sends full batches at once and the rest on flush, each item exactly once', async () => {
    const sent: number[][] = [];
    const batcher = new RecordBatcher<number>({
      send: async (items) => sent.push(items),
      size: 3,
      delayMs: 60_000,
      onError: () => undefined,
    });
    for (let i = 0; i < 7; i++) batcher.add(i);
    await batcher.flush();
    expect(sent).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('sends a partial batch after the delay without a flush', async () => {
    const sent: number[][] = [];
    const batcher = new RecordBatcher<number>({
      send: async (items) => sent.push(items),
      size: 100,
      delayMs: 10,
      onError: () => undefined,
    });
    batcher.add(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(sent).toEqual([[1]]);
  });

  it('reports a failed send, and still counts it as settled on flush', async () => {
    const errors: unknown[] = [];
    const batcher = new RecordBatcher<number>({
      send: async () => {
        throw new Error('refused');
      },
      size: 1,
      delayMs: 0,
      onError: (error) => errors.push(error),
    });
    batcher.add(1);
    await batcher.flush();
    expect(errors).toHaveLength(1);
  });

  it('hands over what is waiting when drained, and then sends nothing more', async () => {
    const sent: number[][] = [];
    const batcher = new RecordBatcher<number>({
      send: async (items) => sent.push(items),
      size: 10,
      delayMs: 10,
      onError: () => undefined,
    });
    batcher.add(1);
    batcher.add(2);
    expect(batcher.drain()).toEqual([1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await batcher.flush();
    expect(sent).toEqual([]);
  });
});
