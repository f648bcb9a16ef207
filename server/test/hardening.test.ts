import { createHash } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../src/config.ts';
import { uploadOrigins } from '../src/contentSecurityPolicy.ts';
import { apiClient, seedCompany, startTestServer, type TestServer, testPassword } from './harness.ts';
import { projectWithCycle, tokenOf } from './uploadFixtures.ts';

/**
 * Hardening at the HTTP edge: security headers and the Content-Security-Policy, the body limit, timeouts
 * against slow clients, and `Secure` session cookies behind a TLS-terminating proxy.
 */

let server: TestServer;
let username: string;
const slowAnswerMs = 5000;

beforeAll(async () => {
  server = await startTestServer({ REQUEST_TIMEOUT_SECONDS: '2' }, 'default', {
    // A handler that thinks longer than a request may take to arrive, as a finish reconcile of a big cycle
    // does; the real procedures cannot be made that slow on demand.
    beforeListen: (app) => {
      app.get('/test/slow', async () => {
        await sleep(slowAnswerMs);
        return { ok: true };
      });
    },
  });
  username = (await seedCompany(server.db, 'hard')).users.user.username;
}, 60_000);
afterAll(() => server?.close());

describe('security headers', () => {
  it('sends helmet’s headers and a Content-Security-Policy on API answers and pages', async () => {
    for (const address of ['/trpc/auth.me', '/api/docs', '/healthz']) {
      const { headers } = await fetch(`${server.url}${address}`);
      expect(headers.get('x-content-type-options'), address).toBe('nosniff');
      expect(headers.get('x-frame-options'), address).toBe('SAMEORIGIN');
      expect(headers.get('referrer-policy'), address).toBe('no-referrer');
      expect(headers.get('strict-transport-security'), address).toMatch(/max-age=\d+/);
      const policy = headers.get('content-security-policy') ?? '';
      expect(policy, address).toContain("default-src 'self'");
      expect(policy, address).toContain("frame-ancestors 'none'");
      expect(policy, address).toContain("object-src 'none'");
      expect(policy, address).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    }
  });

  it('lets the browser reach the embedded S3 server and allows the API reference’s own inline style', async () => {
    const response = await fetch(`${server.url}/api/docs`);
    const page = await response.text();
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toMatch(new RegExp(`connect-src 'self'[^;]* ${server.storage.embedded?.endpoint}`));
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1] ?? '');
    expect(styles).toHaveLength(1);
    for (const style of styles) {
      const hash = createHash('sha256').update(style).digest('base64');
      expect(policy).toMatch(new RegExp(`style-src [^;]*'sha256-${hash.replace(/[+/]/g, '\\$&')}'`));
    }
    expect(page).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it('allows every configured S3 origin, with subdomains for virtual-hosted buckets, and AWS when on AWS', () => {
    const external = readConfig({
      S3_ENDPOINT: 'https://minio.example.org:9000',
      S3_PUBLIC_ENDPOINT: 'https://s3.example.org/',
      S3_ALLOWED_ENDPOINTS: 'https://r2.example.net,http://10.0.0.5:9000',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(uploadOrigins(external, undefined).sort()).toEqual(
      [
        'https://minio.example.org:9000',
        'https://*.minio.example.org:9000',
        'https://s3.example.org',
        'https://*.s3.example.org',
        'https://r2.example.net',
        'https://*.r2.example.net',
        'http://10.0.0.5:9000',
      ].sort(),
    );
    const aws = readConfig({ AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    expect(uploadOrigins(aws, undefined)).toEqual(['https://*.amazonaws.com']);
    expect(uploadOrigins(readConfig({}), 'http://127.0.0.1:4568')).toEqual(['http://127.0.0.1:4568']);
  });
});

describe('the body limit', () => {
  it('takes the largest legitimate call, a plan of 5,000 files with keys at S3’s limit, and refuses more with 413', async () => {
    const company = await seedCompany(server.db, 'big');
    const { project, cycle } = await projectWithCycle(server, company, 'big-plan');
    const token = await tokenOf(server, company.users.user.id);
    const api = apiClient(server.url, { token });
    const session = await api.uploads.begin.mutate({ projectId: project.id, cycleId: cycle.id });
    const keyRoom = 1024 - `${cycle.s3Prefix}/`.length;
    const files = Array.from({ length: 5000 }, (_, index) => {
      const name = `/${String(index).padStart(5, '0')}.WAV`;
      return {
        relativePath: `SENSOR-01/${'x'.repeat(keyRoom - 'SENSOR-01/'.length - name.length)}${name}`,
        size: 1_000_000 + index,
        lastModified: '2025-09-09T09:20:00.000+02:00',
        contentType: 'audio/x-wav; codecs=1; rate=384000; channels=1; bits=16; recorder=AudioMoth-1.8',
      };
    });
    const body = JSON.stringify({ sessionId: session.id, files });
    console.log(`largest legitimate call: a plan of 5,000 files, ${(body.length / 1024 / 1024).toFixed(2)} MiB`);
    const post = (payload: string) =>
      fetch(`${server.url}/trpc/uploads.plan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: payload,
      });
    const accepted = await post(body);
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const planned = (await accepted.json()) as { result: { data: { files: Array<{ decision: string }> } } };
    expect(planned.result.data.files.filter(({ decision }) => decision === 'upload')).toHaveLength(5000);

    const tooLarge = await post(JSON.stringify({ sessionId: session.id, files, padding: 'p'.repeat(8 * 1024 * 1024) }));
    expect(tooLarge.status).toBe(413);
    const answer = (await tooLarge.json()) as { message: string };
    expect(answer.message).toMatch(/over 8 MiB.*5,000/);
  }, 120_000);
});

/**
 * Opens a connection, writes `start`, then one more piece every 300 ms for as long as the server keeps the
 * connection; resolves with what the server answered once it closes.
 */
function trickle(start: string, piece: string, maxPieces: number): Promise<{ reply: string; piecesSent: number }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let reply = '';
    let piecesSent = 0;
    let open = true;
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    socket.on('close', () => {
      open = false;
      resolve({ reply, piecesSent });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A write racing the server's close: the server cut us off, which is what is tested.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return;
      reject(error);
    });
    socket.write(start);
    (async () => {
      while (open && piecesSent < maxPieces) {
        await sleep(300);
        if (open) socket.write(piece);
        piecesSent += 1;
      }
      if (open) reject(new Error(`the server still listened after ${maxPieces} pieces`));
      socket.destroy();
    })();
  });
}

describe('slow clients', () => {
  it('cuts off a client that sends its headers and then trickles the body', async () => {
    const { reply, piecesSent } = await trickle(
      'POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      ' ',
      150,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(piecesSent).toBeLessThan(150);
  }, 90_000);

  it('cuts off a slowloris that never finishes its headers', async () => {
    const { reply, piecesSent } = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 150);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(piecesSent).toBeLessThan(150);
  }, 90_000);

  it('keeps an idle connection open longer than a load balancer’s 60 s, and says so', async () => {
    const { port } = new URL(server.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        if (received.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(reply).toMatch(/\r\nKeep-Alive: timeout=72\r\n/i);
  });

  it('answers a request that arrived in time even when the answer takes longer than the request timeout', async () => {
    const response = await fetch(`${server.url}/test/slow`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  }, 60_000);
});

/** Signs in over HTTP with the given extra headers; the `Set-Cookie` of the session and its status. */
async function signInCookie(target: TestServer, headers: Record<string, string> = {}) {
  const response = await fetch(`${target.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password: testPassword }),
  });
  const setCookie = response.headers.getSetCookie().find((cookie) => cookie.startsWith('du_session=')) ?? '';
  return { status: response.status, setCookie };
}

describe('the session cookie behind a TLS-terminating proxy', () => {
  it('is not Secure over plain http without a trusted proxy, and works there (pnpm start on localhost)', async () => {
    const { status, setCookie } = await signInCookie(server);
    expect(status).toBe(200);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).not.toMatch(/;\s*Secure/i);
    const me = await fetch(`${server.url}/trpc/auth.me`, { headers: { cookie: setCookie.split(';')[0] ?? '' } });
    expect(me.status).toBe(200);
    // Without TRUST_PROXY a forged X-Forwarded-Proto changes nothing.
    const forged = await signInCookie(server, { 'x-forwarded-proto': 'https' });
    expect(forged.setCookie).not.toMatch(/;\s*Secure/i);
  });

  it('is Secure when the trusted proxy says the request came over https, and only then', async () => {
    const proxied = await startTestServer({ TRUST_PROXY: '127.0.0.1' });
    const elsewhere = await startTestServer({ TRUST_PROXY: '10.9.8.7' });
    try {
      for (const target of [proxied, elsewhere]) await seedCompany(target.db, 'hard');
      const overTls = await signInCookie(proxied, { 'x-forwarded-proto': 'https' });
      expect(overTls.status).toBe(200);
      expect(overTls.setCookie).toMatch(/;\s*Secure/i);
      expect(overTls.setCookie).toMatch(/HttpOnly/);
      expect((await signInCookie(proxied)).setCookie).not.toMatch(/;\s*Secure/i);
      // A proxy header from an address that is not the configured proxy is not believed.
      const untrusted = await signInCookie(elsewhere, { 'x-forwarded-proto': 'https' });
      expect(untrusted.status).toBe(200);
      expect(untrusted.setCookie).not.toMatch(/;\s*Secure/i);
    } finally {
      await Promise.all([proxied.close(), elsewhere.close()]);
    }
  }, 90_000);
});
