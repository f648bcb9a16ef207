import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through the proxy, as the S3 server received it. */
export interface ProxiedRequest {
  method: string;
  url: string;
  bodyBytes: number;
  status: number | null;
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
 * A transparent HTTP proxy in front of the S3 server, for tests that must see the traffic from the S3 side:
 * which requests arrived, with how many body bytes, and how they were answered. The Host header is passed on
 * unchanged, so presigned signatures (made for the proxy's address) still verify.
 */
export async function startS3Proxy(): Promise<S3Proxy> {
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
    };
    const forward = () => {
      if (!target) throw new Error('the proxy has no target yet');
      requests.push(record);
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: record.method,
          path: record.url,
          headers: incoming.headers,
        },
        (response) => {
          record.status = response.statusCode ?? null;
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      incoming.on('data', (chunk: Buffer) => {
        record.bodyBytes += chunk.length;
      });
      incoming.pipe(upstream);
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
