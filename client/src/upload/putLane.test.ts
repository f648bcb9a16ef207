import { describe, expect, it } from 'vitest';
import { type LaneOutcome, PutLane, type PutLaneOptions, type PutTransfer, putsInFlight } from './putLane.ts';
import type { PutCommand, PutJob, PutReport } from './putWorker.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function transfer(key: string, size = 16 * 1024): PutTransfer {
  return { key, file: new File([new Uint8Array(size)], key) };
}

/** A lane on a stand-in worker: the test sees what was sent and answers for S3. */
function lane(overrides: Partial<PutLaneOptions<PutTransfer>> = {}) {
  const sent: PutJob[] = [];
  const commands: PutCommand[] = [];
  const outcomes: Array<{ key: string; outcome: LaneOutcome }> = [];
  const signed: string[][] = [];
  let onReport: (report: PutReport) => void = () => {};
  let onFailure: (message: string) => void = () => {};
  let workers = 0;
  const errors: unknown[] = [];
  let now = 0;
  const subject = new PutLane<PutTransfer>({
    signMany: async (keys) => {
      signed.push(keys);
      return {
        urls: keys.map((key) => ({ url: `https://s3.test/${key}?sig=${signed.length}`, headers: {} })),
        expiresIn: 60,
      };
    },
    signOne: async (key) => ({ url: `https://s3.test/${key}?one`, headers: {} }),
    onOutcome: (t, outcome) => outcomes.push({ key: t.key, outcome }),
    onProgress: () => {},
    onError: (error) => errors.push(error),
    holding: () => false,
    now: () => now,
    transport: () => {
      workers += 1;
      return {
        post: (command) => {
          commands.push(command);
          if (command.type === 'send') sent.push(...command.jobs);
        },
        listen: (listener, failure) => {
          onReport = listener;
          onFailure = failure;
        },
        close: () => {},
      };
    },
    ...overrides,
  });
  const answer = (keys: string[], outcome: (key: string) => Record<string, unknown> = () => ({ sha256: 'ab' })) =>
    onReport({ type: 'outcomes', outcomes: keys.map((key) => ({ key, ...outcome(key) }) as never) });
  return {
    subject,
    errors,
    workers: () => workers,
    failWorker: (message: string) => onFailure(message),
    sent,
    commands,
    outcomes,
    signed,
    answer,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('PutLane', () => {
  it('signs ahead in batches and keeps a bounded number of requests in flight until all are answered', async () => {
    const t = lane();
    for (let i = 0; i < 1000; i++) t.subject.push(transfer(`k${i}`));
    t.subject.start();
    await settle();
    expect(t.signed[0]).toHaveLength(300);
    expect(t.sent).toHaveLength(putsInFlight);
    while (t.outcomes.length < 1000) {
      const open = t.sent.slice(t.outcomes.length, t.outcomes.length + 5).map((job) => job.key);
      t.answer(open);
      await settle();
      expect(t.subject.inFlight).toBeLessThanOrEqual(putsInFlight);
    }
    expect(t.sent.map((job) => job.key)).toEqual(Array.from({ length: 1000 }, (_, i) => `k${i}`));
    expect(t.signed.every((keys) => keys.length <= 300)).toBe(true);
    expect(t.subject.drained).toBe(true);
  });

  it('keeps big files from starting all at once: at most 64 MiB in flight, but always one', async () => {
    const t = lane();
    for (let i = 0; i < 5; i++) t.subject.push(transfer(`big${i}`, 40 * 1024 * 1024));
    t.subject.start();
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['big0']);
    t.answer(['big0']);
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['big0', 'big1']);
  });

  it('sends nothing new while paused, and goes on when started again', async () => {
    const t = lane();
    const files = putsInFlight + 16;
    for (let i = 0; i < files; i++) t.subject.push(transfer(`k${i}`));
    t.subject.start();
    await settle();
    t.subject.pause();
    t.answer(t.sent.map((job) => job.key));
    await settle();
    expect(t.sent).toHaveLength(putsInFlight);
    t.subject.start();
    await settle();
    expect(t.sent).toHaveLength(files);
  });

  it('signs an expired URL again once; a second expiry is the file’s failure', async () => {
    const t = lane();
    t.subject.push(transfer('a'));
    t.subject.start();
    await settle();
    expect(t.errors).toEqual([]);
    const expired = () => ({
      error: 'S3 returned 403 – AccessDenied: Request has expired',
      status: 403,
      readable: true,
    });
    t.answer(['a'], expired);
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['a', 'a']);
    expect(t.sent[1]?.url).not.toBe(t.sent[0]?.url);
    expect(t.outcomes).toEqual([]);
    t.answer(['a'], expired);
    await settle();
    expect(t.outcomes).toMatchObject([{ key: 'a', outcome: expired() }]);
  });

  it('signs again what waited past half its validity instead of sending it', async () => {
    const t = lane();
    for (let i = 0; i < putsInFlight + 1; i++) t.subject.push(transfer(`k${i}`));
    t.subject.start();
    await settle();
    const waiting = `k${putsInFlight}`;
    t.advance(31_000);
    t.answer(['k0']);
    await settle();
    await settle();
    const job = t.sent.find((sent) => sent.key === waiting);
    expect(job?.url).toMatch(/sig=2$/);
  });

  it('when the server refuses a batch, signs each file alone: only the refused one fails, with its status', async () => {
    const refusal = Object.assign(new Error('"bad" is not planned in this session'), { data: { httpStatus: 403 } });
    const t = lane({
      signMany: async () => {
        throw refusal;
      },
      signOne: async (key) => {
        if (key === 'bad') throw refusal;
        return { url: `https://s3.test/${key}`, headers: {} };
      },
    });
    for (const key of ['a', 'bad', 'c']) t.subject.push(transfer(key));
    t.subject.start();
    await settle();
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['a', 'c']);
    expect(t.outcomes).toEqual([
      { key: 'bad', outcome: { error: '"bad" is not planned in this session', status: 403, readable: true } },
    ]);
  });

  it('while holding, sends only files being sent again', async () => {
    let holding = false;
    const t = lane({ holding: () => holding });
    t.subject.push(transfer('new'));
    holding = true;
    t.subject.pushAgain(transfer('again'));
    t.subject.start();
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['again']);
    holding = false;
    t.subject.pump();
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['again', 'new']);
  });

  it('sends what a failed worker held through a new one, and gives up with a clear error after three', async () => {
    const t = lane();
    for (let i = 0; i < 3; i++) t.subject.push(transfer(`k${i}`));
    t.subject.start();
    await settle();
    t.failWorker('boom');
    expect(t.workers()).toBe(2);
    expect(t.sent.map((job) => job.key)).toEqual(['k0', 'k1', 'k2']);
    await settle();
    expect(t.sent.map((job) => job.key)).toEqual(['k0', 'k1', 'k2', 'k0', 'k1', 'k2']);
    t.failWorker('boom');
    await settle();
    t.failWorker('boom');
    expect(t.workers()).toBe(3);
    expect(String(t.errors[0])).toContain('The upload worker stopped working (boom)');
    expect(t.outcomes).toEqual([]);
  });

  it('on cancel, tells the worker, forgets everything and reports nothing more', async () => {
    const t = lane();
    for (let i = 0; i < 50; i++) t.subject.push(transfer(`k${i}`));
    t.subject.start();
    await settle();
    t.subject.cancel();
    expect(t.commands.at(-1)).toEqual({ type: 'cancel' });
    t.answer(['k0']);
    await settle();
    expect(t.outcomes).toEqual([]);
    expect(t.subject.drained).toBe(true);
  });
});
