import { stat } from 'node:fs/promises';
import path from 'node:path';
import { maxPlanBatch, normaliseRelativePath, sensorManifest } from '@data-uploader/shared';
import type { Api } from '../../driver/api.ts';
import { defaultRetryPolicy } from '../../driver/transfer.ts';
import { type LocalFile, UploadDriver, type UploadResult } from '../../driver/uploadDriver.ts';
import { connect, type GlobalFlags } from '../client.ts';
import { type Discovery, discover } from '../discovery.ts';
import { exitCodes, explain, usageError } from '../errors.ts';
import { formatBytes, table } from '../format.ts';
import { readJobFile } from '../jobFile.ts';
import { type OutputMode, Progress, printJson } from '../progress.ts';
import { type Cycle, cycleByPrefix, type Project, projectByBucket, resolveCycle, resolveProject } from '../resolve.ts';

export interface UploadFlags extends GlobalFlags {
  project?: string;
  cycle?: string;
  label?: string;
  concurrency?: number;
  retries?: number;
  dryRun?: boolean;
  overwrite?: boolean;
  include?: string[];
  exclude?: string[];
  json?: boolean;
  followSymlinks?: boolean;
  newSession?: boolean;
  config?: string;
}

const clientName = `data-uploader/0.1 ${process.platform}`;

/** `upload DIR …`: discover, resolve, then either plan only (--dry-run) or upload through the UploadDriver. */
export async function upload(dirArgument: string | undefined, flags: UploadFlags): Promise<number> {
  const job = flags.config ? await readJobFile(flags.config) : null;
  for (const notice of job?.notices ?? []) process.stderr.write(`${notice}\n`);
  const dir = dirArgument ?? job?.localDirectory;
  if (!dir) throw usageError('Which folder? Pass DIR (or "local_directory" in the job file).');
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw usageError(`${dir} is not a folder.`);
  if (!flags.project && !job?.project && !job?.bucketName) throw usageError('--project NAME|ID is required.');
  if (!flags.cycle && !job?.cycle && job?.s3Prefix === undefined) throw usageError('--cycle NAME|ID is required.');
  const concurrency = flags.concurrency ?? job?.maxWorkers ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError('--concurrency must be a whole number ≥ 1.');
  const retries = flags.retries ?? job?.timesToRetry;

  const { api, me, server } = await connect(flags, job?.server);
  const mode: OutputMode = flags.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain';
  const say = (line: string) => {
    if (mode !== 'json') process.stdout.write(`${line}\n`);
  };
  try {
    const project = flags.project
      ? await resolveProject(api, flags.project)
      : job?.project
        ? await resolveProject(api, job.project)
        : await projectByBucket(api, job?.bucketName as string, job?.awsRegion);
    const cycle = flags.cycle
      ? await resolveCycle(api, project, flags.cycle)
      : job?.cycle
        ? await resolveCycle(api, project, job.cycle)
        : await cycleByPrefix(api, project, job?.s3Prefix as string);

    const found = await discover(dir, {
      include: flags.include,
      exclude: flags.exclude,
      followSymlinks: flags.followSymlinks,
    });
    say(discoveryLine(dir, found));
    if (mode === 'json') printJson({ type: 'discovered', ...discoverySummary(found) });
    if (found.files.length === 0) {
      say('Nothing to upload.');
      if (mode === 'json') printJson({ type: 'finished', sessionId: null, failed: [], invalid: [] });
      return exitCodes.ok;
    }
    const invalid = localInvalid(found.files);

    const resumeId = flags.newSession ? undefined : await activeSession(api, me.id, project.id, cycle.id, flags.label);
    if (flags.dryRun) return await dryRun(api, project, cycle, found, flags, mode, resumeId);
    if (resumeId) say(`Continuing upload session ${resumeId} (pass --new-session to start a fresh one).`);
    const progress = new Progress(mode);
    const controller = new AbortController();
    const stopOnSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(exitCodes.interrupted);
      process.stderr.write(`\n${signal}: stopping; finished files are being recorded (again to quit at once)…\n`);
      controller.abort(new Error(signal));
    };
    process.on('SIGINT', stopOnSignal);
    process.on('SIGTERM', stopOnSignal);
    const driver = new UploadDriver({
      api,
      concurrency,
      retry: retries === undefined ? defaultRetryPolicy : { ...defaultRetryPolicy, retries },
      signal: controller.signal,
      onEvent: progress.handle,
    });
    let result: UploadResult;
    try {
      result = await driver.upload({
        projectId: project.id,
        cycleId: cycle.id,
        files: found.files,
        label: flags.label,
        overwrite: flags.overwrite,
        sessionId: resumeId,
      });
    } catch (error) {
      if (controller.signal.aborted) {
        progress.stop();
        process.stderr.write('Interrupted. Run the same command again to resume where it stopped.\n');
        // The driver has confirmed what finished. Batches still queued in it go on calling signBatch after the
        // abort (6,000 files: 0.8 s; 300k: most of a minute), so leave now rather than wait for them.
        process.exit(exitCodes.interrupted);
      }
      throw error;
    } finally {
      progress.stop();
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
    }
    return report(result, invalid, found, mode, say);
  } catch (error) {
    throw explain(error, server);
  }
}

/** The most recent active CLI session of this person, project and cycle (and label, if one is given). */
async function activeSession(api: Api, userId: string, projectId: string, cycleId: string, label?: string) {
  const recent = await api.sessions.list.query({ projectId, cycleId, limit: 50 });
  const match = recent.find(
    (s) =>
      s.status === 'active' && s.source === 'cli' && s.userId === userId && (label === undefined || s.label === label),
  );
  return match?.id;
}

/** Names the server will refuse, with its own reasons (the same shared check), to list them by name. */
function localInvalid(files: LocalFile[]) {
  const invalid: Array<{ relativePath: string; reason: string }> = [];
  for (const file of files) {
    const checked = normaliseRelativePath(file.relativePath);
    if (!checked.ok) invalid.push({ relativePath: file.relativePath, reason: checked.reason });
  }
  return invalid;
}

function discoverySummary(found: Discovery) {
  return {
    files: found.files.length,
    bytes: found.bytes,
    skippedHidden: found.skippedHidden,
    skippedSymlinks: found.skippedSymlinks,
    skippedByPattern: found.skippedByPattern,
  };
}

function discoveryLine(dir: string, found: Discovery): string {
  const skipped = [
    found.skippedHidden ? `${found.skippedHidden} hidden/system skipped` : '',
    found.skippedSymlinks ? `${found.skippedSymlinks} symlinks skipped` : '',
    found.skippedByPattern ? `${found.skippedByPattern} left out by --include/--exclude` : '',
  ].filter(Boolean);
  return `Found ${found.files.length} files (${formatBytes(found.bytes)}) in ${path.resolve(dir)}${skipped.length ? `; ${skipped.join(', ')}` : ''}.`;
}

/** A name shown safely on one line: control and direction characters as \u escapes. */
export const printable = (name: string) =>
  name.replace(
    /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu,
    (c) => `\\u${c.codePointAt(0)?.toString(16).padStart(4, '0')}`,
  );

function report(
  result: UploadResult,
  invalid: Array<{ relativePath: string; reason: string }>,
  found: Discovery,
  mode: OutputMode,
  say: (line: string) => void,
): number {
  const session = result.session;
  const failed = result.failed;
  const notIn = result.planned.invalid + result.planned.conflict;
  const ok = failed.length === 0 && notIn === 0 && (session?.filesFailed ?? 0) === 0;
  if (mode === 'json') {
    printJson({
      type: 'finished',
      sessionId: result.sessionId,
      ok,
      planned: result.planned,
      bytesSent: result.bytesSent,
      session,
      failed,
      invalid,
      skippedHidden: found.skippedHidden,
    });
  } else {
    const s = session;
    say(
      s
        ? `Verified: ${s.filesDone} files (${formatBytes(s.bytesDone)}) in the bucket for this session, ${s.filesSkipped} already there, ${s.filesFailed} failed; ${formatBytes(result.bytesSent)} sent. Session ${result.sessionId} is ${s.status}.`
        : `Session ${result.sessionId}: no verified result.`,
    );
    if (result.planned.conflict > 0) {
      say(
        `${result.planned.conflict} files conflict with what is already there (see the session in the web app; --overwrite replaces them).`,
      );
    }
    if (result.planned.invalid > 0) {
      say(`${result.planned.invalid} files have names or sizes the server refuses:`);
      for (const entry of invalid) say(`  ${printable(entry.relativePath)}: ${entry.reason}`);
    }
    if (failed.length > 0) {
      say(`${failed.length} files failed:`);
      for (const entry of failed) say(`  ${printable(entry.relativePath)}: ${entry.error}`);
    }
  }
  return ok ? exitCodes.ok : exitCodes.filesFailed;
}

/**
 * Plans against the ledger without moving a byte. There is no read-only planning call, so:
 * - when a real run would continue an active session, the plan is made inside it and the session is left as it
 *   was (planning there claims only what that run would claim anyway);
 * - otherwise it begins a session, plans in batches and aborts it at once, so nothing stays open (it remains in
 *   the history as an aborted "dry run"). Abort also aborts the multipart uploads of files the plan took over,
 *   which is why an active session is preferred, and why a plan with `resume` decisions is closed with finish:
 *   resumable parts of an interrupted run must survive a dry run.
 */
async function dryRun(
  api: Api,
  project: Project,
  cycle: Cycle,
  found: Discovery,
  flags: UploadFlags,
  mode: OutputMode,
  activeId: string | undefined,
): Promise<number> {
  const session = activeId
    ? { id: activeId }
    : await api.uploads.begin.mutate({
        projectId: project.id,
        cycleId: cycle.id,
        label: `dry run${flags.label ? `: ${flags.label}` : ''}`.slice(0, 200),
        source: 'cli',
        client: clientName,
      });
  const totals = Object.fromEntries(
    (['upload', 'resume', 'skip', 'conflict', 'invalid'] as const).map((d) => [d, { files: 0, bytes: 0 }]),
  ) as Record<'upload' | 'resume' | 'skip' | 'conflict' | 'invalid', { files: number; bytes: number }>;
  const refused: Array<{ relativePath: string; reason: string }> = [];
  const conflicts: Array<{ relativePath: string; reason: string }> = [];
  try {
    for (let i = 0; i < found.files.length; i += maxPlanBatch) {
      const batch = found.files.slice(i, i + maxPlanBatch);
      const { files: planned } = await api.uploads.plan.mutate({
        sessionId: session.id,
        overwrite: flags.overwrite ?? false,
        files: batch.map((f) => ({ relativePath: f.relativePath, size: f.size, lastModified: f.lastModified })),
      });
      planned.forEach((entry, index) => {
        const file = batch[index] as LocalFile;
        totals[entry.decision].files++;
        totals[entry.decision].bytes += file.size;
        if (entry.decision === 'invalid') refused.push({ relativePath: file.relativePath, reason: entry.reason });
        if (entry.decision === 'conflict') conflicts.push({ relativePath: file.relativePath, reason: entry.reason });
      });
    }
  } finally {
    // Abort would also abort the multipart uploads this plan took over from an earlier session (their parts
    // lost); finish closes the session and keeps their upload ids, so the real run still resumes them.
    if (!activeId) {
      if (totals.resume.files > 0) await api.uploads.finish.mutate({ sessionId: session.id });
      else await api.uploads.abort.mutate({ sessionId: session.id });
    }
  }
  const sensors = sensorManifest(found.files);
  if (mode === 'json') {
    printJson({
      type: 'dry-run',
      sessionId: activeId ?? null,
      totals,
      invalid: refused,
      conflicts,
      sensors,
      ...discoverySummary(found),
    });
    return exitCodes.ok;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    activeId
      ? `Dry run: nothing was sent; planned inside the active session ${activeId}, which the next run continues.`
      : 'Dry run: nothing was sent.',
  );
  out(
    table(
      ['DECISION', 'FILES', 'BYTES'],
      Object.entries(totals).map(([decision, t]) => [decision, String(t.files), formatBytes(t.bytes)]),
    ),
  );
  if (refused.length > 0) {
    out('Invalid:');
    for (const entry of refused) out(`  ${printable(entry.relativePath)}: ${entry.reason}`);
  }
  if (conflicts.length > 0) {
    out('Conflicts:');
    for (const entry of conflicts.slice(0, 100)) out(`  ${printable(entry.relativePath)}: ${entry.reason}`);
  }
  out(
    table(
      ['SENSOR', 'FILES', 'BYTES', 'FIRST RECORDING', 'LAST RECORDING', 'TYPES', 'GAPS', 'ODD NAMES'],
      sensors.map((s) => [
        printable(s.sensor),
        String(s.files),
        formatBytes(s.bytes),
        s.firstRecording ?? '-',
        s.lastRecording ?? '-',
        s.fileTypes.map((type) => `${type.extension} ${type.files}`).join(', '),
        String(s.gapCount),
        String(s.offPattern.count),
      ]),
    ),
  );
  return exitCodes.ok;
}
