import { createHash } from 'node:crypto';
import { type Fault, type ProxiedRequest, type S3Proxy, startS3Proxy } from './s3Proxy.ts';

/** The share (0–1) of requests that meet each fault. */
export interface FaultRates {
  /** 500 InternalError, answered by the proxy. */
  internalError: number;
  /** 503 SlowDown, answered by the proxy. */
  slowDown: number;
  /** Connection cut mid-body: half of these while the request body travels, half once S3 has applied it. */
  reset: number;
  /** One byte of a PUT body flipped on its way to S3. */
  corrupt: number;
  /** Passed on after `delayMs`. */
  delay: number;
  delayMs: number;
}

export const noFaults: FaultRates = { internalError: 0, slowDown: 0, reset: 0, corrupt: 0, delay: 0, delayMs: 0 };

export type FaultCounts = Record<
  'internalError' | 'slowDown' | 'resetRequest' | 'resetResponse' | 'corrupt' | 'delay',
  number
>;

export interface FaultProxy extends S3Proxy {
  /** Faults injected so far, by kind. */
  counts: FaultCounts;
  setRates(rates: FaultRates): void;
  /**
   * A fault chosen by the test for the attempts it names (the first attempt is 0), before the seeded schedule;
   * null for the others. Scripted faults are counted like the rest.
   */
  script(decide: ((request: { method: string; url: string }, attempt: number) => Fault | null) | null): void;
}

/**
 * What a request is, whatever URL it was signed with: the method, the path and the query without the signature
 * and the uploadId (random per run), so a request and its retries share one identity and the faults a seed
 * gives do not depend on the order in which concurrent requests arrive.
 */
export function requestIdentity(request: Pick<ProxiedRequest, 'method' | 'url'>): string {
  const url = new URL(request.url, 'http://proxy');
  const query = [...url.searchParams]
    .filter(([name]) => !name.startsWith('X-Amz-') && name !== 'uploadId')
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join('&');
  return `${request.method} ${url.pathname}?${query}`;
}

/**
 * The S3 proxy with faults, deterministic by seed: the n-th attempt of a request meets the fault that
 * SHA-256(seed, identity, n) picks, at the configured rates.
 */
export async function startFaultProxy({ seed, rates }: { seed: string; rates: FaultRates }): Promise<FaultProxy> {
  let current = rates;
  let scripted: Parameters<FaultProxy['script']>[0] = null;
  const attempts = new Map<string, number>();
  const counts: FaultCounts = {
    internalError: 0,
    slowDown: 0,
    resetRequest: 0,
    resetResponse: 0,
    corrupt: 0,
    delay: 0,
  };

  const faultFor = (request: { method: string; url: string; contentLength: number }): Fault | null => {
    const identity = requestIdentity(request);
    const attempt = attempts.get(identity) ?? 0;
    attempts.set(identity, attempt + 1);
    const chosen = scripted?.(request, attempt);
    if (chosen) {
      counts[countedAs(chosen)]++;
      return chosen;
    }
    const digest = createHash('sha256').update(`${seed}\n${identity}\n${attempt}`).digest();
    const pick = digest.readUInt32BE(0) / 2 ** 32;
    const where = digest.readUInt32BE(4) / 2 ** 32;
    const fault = choose(current, pick, where, request);
    if (fault) counts[countedAs(fault)]++;
    return fault;
  };

  const proxy = await startS3Proxy({ faultFor });
  return {
    ...proxy,
    counts,
    setRates(next) {
      current = next;
    },
    script(decide) {
      scripted = decide;
    },
  };
}

function countedAs(fault: Fault): keyof FaultCounts {
  if (fault.kind === 'answer') return fault.code === 'SlowDown' ? 'slowDown' : 'internalError';
  if (fault.kind === 'reset-request') return 'resetRequest';
  if (fault.kind === 'reset-response') return 'resetResponse';
  return fault.kind;
}

function choose(
  rates: FaultRates,
  pick: number,
  where: number,
  request: { method: string; contentLength: number },
): Fault | null {
  let bound = rates.internalError;
  if (pick < bound) {
    return {
      kind: 'answer',
      status: 500,
      code: 'InternalError',
      message: 'We encountered an internal error. Please try again.',
    };
  }
  bound += rates.slowDown;
  if (pick < bound)
    return { kind: 'answer', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
  bound += rates.reset;
  if (pick < bound) {
    if (request.contentLength > 1 && where < 0.5) {
      return { kind: 'reset-request', afterBytes: 1 + Math.floor(where * 2 * (request.contentLength - 1)) };
    }
    return { kind: 'reset-response' };
  }
  bound += rates.corrupt;
  if (pick < bound) {
    if (request.method !== 'PUT' || request.contentLength === 0) return null;
    return { kind: 'corrupt', offset: Math.floor(where * request.contentLength) };
  }
  bound += rates.delay;
  if (pick < bound) return { kind: 'delay', ms: Math.round(where * rates.delayMs) };
  return null;
}
