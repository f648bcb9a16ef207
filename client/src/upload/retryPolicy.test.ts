import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  isTransient,
  longestDelayMs,
  maxAttempts,
  retrying,
  statusOf,
  transientReason,
} from './retryPolicy.ts';

const withStatus = (status: number) => Object.assign(new Error(`status ${status}`), { status });

describe('backoffMs', () => {
  it('doubles from one second, stays within the upper half of its step, and stops growing at the longest delay', () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(1, () => 1)).toBe(1000);
    expect(backoffMs(2, () => 1)).toBe(2000);
    expect(backoffMs(4, () => 0.5)).toBe(6000);
    expect(backoffMs(6, () => 1)).toBe(longestDelayMs);
    expect(backoffMs(40, () => 1)).toBe(longestDelayMs);
    expect(backoffMs(40, () => 0)).toBe(longestDelayMs / 2);
  });
});

describe('isTransient', () => {
  it('retries what may answer differently later and fails what will not', () => {
    for (const status of [500, 502, 503, 504, 429, 408]) expect(isTransient(withStatus(status))).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 412]) expect(isTransient(withStatus(status))).toBe(false);
  });

  it('takes the status from a tRPC answer, a response it could not read, or an XHR in the cause chain', () => {
    const refused = Object.assign(new Error('Forbidden'), { data: { code: 'FORBIDDEN', httpStatus: 403 } });
    expect(statusOf(refused)).toBe(403);
    expect(isTransient(refused)).toBe(false);
    const unreadable = Object.assign(new Error('Unexpected token'), { meta: { response: { status: 503 } } });
    expect(isTransient(unreadable)).toBe(true);
    const wrapped = new Error('upload failed', { cause: { request: { status: 404 } } });
    expect(statusOf(wrapped)).toBe(404);
    expect(isTransient(wrapped)).toBe(false);
  });

  it('treats a request that got no answer as transient, and a cancelled one as not', () => {
    expect(isTransient(new TypeError('Failed to fetch'))).toBe(true);
    expect(isTransient(Object.assign(new Error('Network error during S3 request'), { code: 'NETWORK' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { request: { status: 0 } }))).toBe(true);
    expect(isTransient(new DOMException('Request aborted', 'AbortError'))).toBe(false);
    expect(isTransient(null)).toBe(false);
  });
});

describe('transientReason', () => {
  it("keeps S3's own words, and says what happened when an answer is unreadable or missing", () => {
    expect(transientReason(Object.assign(new Error('S3 returned 503 – SlowDown'), { status: 503 }))).toBe(
      'S3 returned 503 – SlowDown',
    );
    const unreadable = Object.assign(new Error('Unexpected token'), { meta: { response: { status: 502 } } });
    expect(transientReason(unreadable)).toBe('the server answered 502');
    expect(transientReason(new TypeError('Failed to fetch'))).toBe('no usable answer from the server');
  });
});

describe('retrying', () => {
  it('sends again after transient failures, telling about each pause, until the call goes through', async () => {
    let calls = 0;
    const told: unknown[] = [];
    const answer = await retrying(
      async () => {
        calls++;
        if (calls < 4) throw withStatus(503);
        return 'ok';
      },
      { delayScale: 0.001, onRetry: (error) => told.push(error) },
    );
    expect(answer).toBe('ok');
    expect(calls).toBe(4);
    expect(told).toHaveLength(3);
  });

  it('gives up a refusal at once, and a transient failure after all its attempts', async () => {
    let refusals = 0;
    await expect(
      retrying(
        async () => {
          refusals++;
          throw withStatus(403);
        },
        { delayScale: 0.001 },
      ),
    ).rejects.toThrow('status 403');
    expect(refusals).toBe(1);
    let outages = 0;
    await expect(
      retrying(
        async () => {
          outages++;
          throw withStatus(503);
        },
        { delayScale: 0.001, attempts: 5 },
      ),
    ).rejects.toThrow('status 503');
    expect(outages).toBe(5);
    expect(maxAttempts).toBeGreaterThan(5);
  });

  it('cuts a pause short when woken, as when the network comes back', async () => {
    let calls = 0;
    let wakeUp = () => {};
    const woken = new Promise<void>((resolve) => {
      wakeUp = resolve;
    });
    const answer = retrying(
      async () => {
        calls++;
        if (calls === 1) throw new TypeError('Failed to fetch');
        return calls;
      },
      { wake: () => woken, onRetry: () => setTimeout(wakeUp, 0) },
    );
    // Without the wake-up the pause would be half a second or more, past the test's own timeout.
    expect(await answer).toBe(2);
  }, 400);
});
