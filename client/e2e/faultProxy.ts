import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Seen {
  method: string;
  url: string;
  status: number;
}

export interface FaultProxy {
  /** Where presigned URLs should point (S3_PUBLIC_ENDPOINT). */
  endpoint: string;
  forwardTo(target: string): void;
  /** Every answered request, with the status the browser got (the proxy's own 503s included). */
  seen: Seen[];
  /** Answers 503 SlowDown, as S3 does under load, to the requests this matches; null to stop. */
  failWhen(predicate: ((request: { method: string; url: string }) => boolean) | null): void;
  /** Holds every answer back this long: a slow link, so that an upload is still under way when a fault starts. */
  delay(ms: number): void;
  close(): Promise<void>;
}

const slowDown =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.' +
  '</Message></Error>';

/**
 * A small proxy in front of the S3 server for the browser's fault tests: it passes requests on unchanged (the
 * Host header too, so presigned signatures verify) and can answer 503 SlowDown instead, with the CORS headers
 * S3 would send, so the page sees a real 503 and not an opaque network error.
 */
export async function startFaultProxy(): Promise<FaultProxy> {
  let target: URL | null = null;
  let failing: ((request: { method: string; url: string }) => boolean) | null = null;
  let delayMs = 0;
  const seen: Seen[] = [];

  const server = http.createServer((incoming, outgoing) => {
    const method = incoming.method ?? 'GET';
    const url = incoming.url ?? '/';
    if (failing?.({ method, url })) {
      // The body is read first: answering while the browser still sends it would look like a reset.
      incoming.resume();
      incoming.on('end', () => {
        seen.push({ method, url, status: 503 });
        outgoing.writeHead(503, {
          'content-type': 'application/xml',
          'access-control-allow-origin': incoming.headers.origin ?? '*',
          'access-control-expose-headers': 'ETag',
          vary: 'Origin',
        });
        outgoing.end(slowDown);
      });
      return;
    }
    if (!target) throw new Error('the proxy has no target yet');
    const upstream = http.request(
      { host: target.hostname, port: target.port, method, path: url, headers: incoming.headers },
      (response) => {
        setTimeout(() => {
          seen.push({ method, url, status: response.statusCode ?? 502 });
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        }, delayMs);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    forwardTo(url) {
      target = new URL(url);
    },
    seen,
    failWhen(predicate) {
      failing = predicate;
    },
    delay(ms) {
      delayMs = ms;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
