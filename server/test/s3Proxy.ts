import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request that went through the proxy, as the S3 server received it. */
export interface ProxiedRequest {
  method: string;
  url: string;
  bodyBytes: number;
  /** The status the client was sent (a fault's own answer included); null when the connection was cut first. */
  status: number | null;
  fault: Fault['kind'] | null;
  /** `performance.now()` when the request reached the proxy and when its answer was sent or its connection cut. */
  arrivedAt: number;
  answeredAt: number | null;
}

/** What the proxy does to one request instead of passing it on untouched. */
export type Fault =
  /** Answered by the proxy with S3's XML error body; S3 never sees the request. */
  | { kind: 'answer'; status: number; code: string; message: string }
  /** Passed on after a pause. */
  | { kind: 'delay'; ms: number }
  /** This many body bytes reach S3, then both connections are cut: a network reset mid-upload. */
  | { kind: 'reset-request'; afterBytes: number }
  /** S3 receives and applies the request, but the client gets half the answer (or none) and a cut connection. */
  | { kind: 'reset-response' }
  /** The body byte at this offset is flipped on its way to S3. */
  | { kind: 'corrupt'; offset: number };

export interface S3ProxyOptions {
  /** Decides, per request, whether and how to disturb it; no fault when absent. */
  faultFor?: (request: { method: string; url: string; contentLength: number }) => Fault | null;
}

export interface S3Proxy {
  /** Where presigned URLs should point (S3_PUBLIC_ENDPOINT). */
  endpoint: string;
  /** Sets the S3 server requests are sent on to; known only once the app has started it. */
  forwardTo(target: string): void;
  requests: ProxiedRequest[];
  /** Requests for which this answers true are held, unanswered, until `release()`: a stalled network. */
  hold(predicate: ((request: { method: string; url: string }) => boolean) | null): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the S3 server, for tests that must see the traffic from the S3 side (which requests
 * arrived, with how many body bytes, how they were answered) or disturb it. The Host header is passed on
 * unchanged, so presigned signatures (made for the proxy's address) still verify.
 */
export async function startS3Proxy(options: S3ProxyOptions = {}): Promise<S3Proxy> {
  let target: URL | null = null;
  let holding: ((request: { method: string; url: string }) => boolean) | null = null;
  let held: Array<() => void> = [];
  const requests: ProxiedRequest[] = [];

  const server = http.createServer((incoming, outgoing) => {
    const record: ProxiedRequest = {
      method: incoming.method ?? 'GET',
      url: incoming.url ?? '/',
      bodyBytes: 0,
      status: null,
      fault: null,
      arrivedAt: performance.now(),
      answeredAt: null,
    };
    outgoing.on('close', () => {
      record.answeredAt ??= performance.now();
    });
    const forward = () => {
      if (!target) throw new Error('the proxy has no target yet');
      requests.push(record);
      const contentLength = Number(incoming.headers['content-length'] ?? 0);
      const fault = options.faultFor?.({ method: record.method, url: record.url, contentLength }) ?? null;
      record.fault = fault?.kind ?? null;
      if (fault?.kind === 'answer') answerError(incoming, outgoing, record, fault);
      else if (fault?.kind === 'delay')
        setTimeout(() => passOn(target as URL, incoming, outgoing, record, null), fault.ms);
      else passOn(target, incoming, outgoing, record, fault);
    };
    if (holding?.({ method: record.method, url: record.url })) held.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    forwardTo(url) {
      target = new URL(url);
    },
    requests,
    hold(predicate) {
      holding = predicate;
    },
    release() {
      holding = null;
      const waiting = held;
      held = [];
      for (const forward of waiting) forward();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** S3's own error shape (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), after the body is read. */
function answerError(
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
  record: ProxiedRequest,
  fault: Extract<Fault, { kind: 'answer' }>,
) {
  incoming.on('data', (chunk: Buffer) => {
    record.bodyBytes += chunk.length;
  });
  incoming.on('end', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${fault.message}</Message><RequestId>proxy-${record.arrivedAt.toFixed(3)}</RequestId></Error>`;
    record.status = fault.status;
    // With the CORS headers S3 sends on its errors, so a browser sees the status and not an opaque network error.
    outgoing.writeHead(fault.status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      ...(incoming.headers.origin
        ? {
            'access-control-allow-origin': incoming.headers.origin,
            'access-control-expose-headers': 'ETag',
            vary: 'Origin',
          }
        : {}),
    });
    outgoing.end(body);
  });
}

function passOn(
  target: URL,
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
  record: ProxiedRequest,
  fault: Exclude<Fault, { kind: 'answer' | 'delay' }> | null,
) {
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: record.method, path: record.url, headers: incoming.headers },
    (response) => {
      if (fault?.kind === 'reset-response') return cutAnswer(response, outgoing);
      record.status = response.statusCode ?? null;
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    },
  );
  upstream.on('error', () => outgoing.destroy());
  let cut = false;
  incoming.on('data', (chunk: Buffer) => {
    if (cut) return;
    const start = record.bodyBytes;
    record.bodyBytes += chunk.length;
    if (fault?.kind === 'reset-request' && record.bodyBytes >= fault.afterBytes) {
      cut = true;
      record.bodyBytes = fault.afterBytes;
      upstream.write(chunk.subarray(0, fault.afterBytes - start), () => upstream.destroy());
      incoming.socket.destroy();
      return;
    }
    let sent = chunk;
    if (fault?.kind === 'corrupt' && fault.offset >= start && fault.offset < record.bodyBytes) {
      sent = Buffer.from(chunk);
      const at = fault.offset - start;
      sent.writeUInt8(sent.readUInt8(at) ^ 0xff, at);
    }
    if (!upstream.write(sent)) {
      incoming.pause();
      upstream.once('drain', () => incoming.resume());
    }
  });
  incoming.on('end', () => upstream.end());
}

/** The answer S3 sent, lost on the way back: its first half (none of an empty one), then a cut connection. */
function cutAnswer(response: http.IncomingMessage, outgoing: http.ServerResponse) {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => {
    const body = Buffer.concat(chunks);
    if (body.length === 0) return void outgoing.destroy();
    outgoing.writeHead(response.statusCode ?? 502, response.headers);
    outgoing.write(body.subarray(0, Math.floor(body.length / 2)), () => outgoing.destroy());
  });
}
