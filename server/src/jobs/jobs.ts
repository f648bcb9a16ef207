import type { Database } from '@data-uploader/drizzle';
import { fromPglite, PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { JobQueue } from '../context.ts';
import type { Storage } from '../s3/storage.ts';
import { importAttempts, runImport } from './importJob.ts';
import { cleanStaleUploads } from './staleUploads.ts';
import { deliver, webhookFor } from './webhooks.ts';

const queue = { import: 'import', webhook: 'webhook', staleUploads: 'stale-uploads' } as const;

export interface JobDeps {
  config: Config;
  database: Database;
  storage: Storage;
  /** Where the queue reports its own errors (a lost connection, a failed poll). */
  onError?: (error: Error) => void;
}

export interface JobOptions {
  /** Run workers in this process (`RUN_WORKERS`); a web-only instance only enqueues. */
  work?: boolean;
  /** How often dead workers' jobs are looked for; tests shorten it. */
  superviseIntervalSeconds?: number;
}

/** First pause before an import runs again after a failure or a dead worker; it doubles each time. */
const importRetryDelaySeconds = 5;

/** A worker that stops sending heartbeats for this long is taken for dead, and its import is run again. */
const importHeartbeatSeconds = 10;

/**
 * The background work on PostgreSQL through pg-boss (no Redis): server-side imports, the hourly clean-up of
 * abandoned multipart uploads, and webhook deliveries. Every server starts it; `pnpm worker` runs only this.
 */
export class Jobs implements JobQueue {
  readonly #boss: PgBoss;
  readonly #deps: JobDeps;
  readonly #running = new Set<AbortController>();

  private constructor(boss: PgBoss, deps: JobDeps) {
    this.#boss = boss;
    this.#deps = deps;
  }

  static async start(
    deps: JobDeps,
    { work = deps.config.RUN_WORKERS, superviseIntervalSeconds = 30 }: JobOptions = {},
  ) {
    const { database } = deps;
    const common = { schema: 'pgboss', superviseIntervalSeconds, schedule: work, supervise: work } as const;
    const boss = database.pglite
      ? new PgBoss({ ...common, db: fromPglite(database.pglite), backend: 'pglite' })
      : new PgBoss({ ...common, connectionString: database.connectionString, max: 4 });
    boss.on('error', (error: Error) => deps.onError?.(error));
    await boss.start();
    await boss.createQueue(queue.import, {
      retryLimit: importAttempts - 1,
      retryBackoff: true,
      retryDelay: importRetryDelaySeconds,
      heartbeatSeconds: importHeartbeatSeconds,
      // The heartbeat tells a dead worker apart; this only bounds one attempt (pg-boss allows at most a day).
      expireInSeconds: 24 * 3600,
    });
    await boss.createQueue(queue.webhook, { retryLimit: 8, retryBackoff: true, retryDelay: 5 });
    await boss.createQueue(queue.staleUploads, { retryLimit: 1 });
    const jobs = new Jobs(boss, deps);
    if (work) await jobs.#work();
    return jobs;
  }

  async enqueueImport(jobId: string) {
    await this.#boss.send(queue.import, { jobId }, { singletonKey: jobId });
  }

  /** Called when a session finishes: its project's webhook, if it has one, is called from the queue. */
  async sessionFinished(sessionId: string) {
    // The session is finished either way: a webhook that cannot be queued is reported, not the finish failed.
    try {
      if (await webhookFor(this.#deps.database.db, sessionId)) await this.#boss.send(queue.webhook, { sessionId });
    } catch (error) {
      this.#deps.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  cleanStaleUploads() {
    return cleanStaleUploads(this.#deps.database.db, this.#deps.storage, this.#deps.config.STALE_UPLOAD_HOURS);
  }

  /**
   * Stops the workers. `abandon` stops as a crash would: running imports are cut off without being settled,
   * so the queue gives them to another worker once their heartbeat goes quiet (what the restart tests need).
   */
  async stop({ abandon = false } = {}) {
    await this.#boss.stop({ graceful: !abandon, close: !this.#deps.database.pglite, timeout: 10_000 });
    for (const controller of this.#running) controller.abort(new Error('worker stopped'));
  }

  async #work() {
    const deps = { db: this.#deps.database.db, config: this.#deps.config, storage: this.#deps.storage, jobs: this };
    await this.#boss.work<{ jobId: string }>(queue.import, { localConcurrency: 2 }, async ([job]) => {
      if (!job) return;
      const controller = new AbortController();
      this.#running.add(controller);
      try {
        await runImport(deps, job.data.jobId, controller.signal);
      } finally {
        this.#running.delete(controller);
      }
    });
    await this.#boss.work<{ sessionId: string }>(queue.webhook, async ([job]) => {
      const webhook = job && (await webhookFor(deps.db, job.data.sessionId));
      if (webhook) await deliver(webhook);
    });
    await this.#boss.work(queue.staleUploads, async () => {
      await this.cleanStaleUploads();
    });
    await this.#boss.schedule(queue.staleUploads, '17 * * * *');
  }
}
