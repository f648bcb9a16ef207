import { type JSX, Show } from 'solid-js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../format.ts';
import type { trpc } from '../trpc.ts';
import { ProgressBar } from './ProgressBar.tsx';
import { StatusBadge } from './StatusBadge.tsx';

export type UploadSession = Awaited<ReturnType<typeof trpc.sessions.get.query>>;

/** A session's counters at a glance, and how far its bytes got. */
export function SessionStats(props: { session: UploadSession }) {
  const session = () => props.session;
  return (
    <>
      <ProgressBar
        label="Bytes uploaded"
        done={session().bytesDone}
        total={session().bytesTotal}
        text={`${formatBytes(session().bytesDone)} of ${formatBytes(session().bytesTotal)}`}
      />
      <div class="stats">
        <Stat name="Status">
          <StatusBadge status={session().status} />
        </Stat>
        <Stat name="Files to send">{formatCount(session().filesTotal)}</Stat>
        <Stat name="Files done">{formatCount(session().filesDone)}</Stat>
        <Stat name="Skipped (already there)">{formatCount(session().filesSkipped)}</Stat>
        <Stat name="Failed">
          <span classList={{ 'error-text': session().filesFailed > 0 }}>{formatCount(session().filesFailed)}</span>
        </Stat>
        <Stat name="Bytes done">
          {formatBytes(session().bytesDone)} <small class="muted">of {formatBytes(session().bytesTotal)}</small>
        </Stat>
        <Stat name="Duration">{formatDuration(session().durationSeconds * 1000)}</Stat>
        <Stat name="Who" text>
          {session().username}
        </Stat>
        <Stat name="Source" text>
          {session().source}
        </Stat>
        <Stat name="Started" text>
          {formatTime(session().startedAt)}
        </Stat>
        <Stat name="Finished" text>
          <Show when={session().finishedAt} fallback={<span class="muted">not yet</span>}>
            {formatTime(session().finishedAt)}
          </Show>
        </Stat>
        <Stat name="Label" text>
          {session().label || <span class="muted">–</span>}
        </Stat>
      </div>
    </>
  );
}

/** One figure of the grid; `text` for words and dates, which read better smaller than counters. */
function Stat(props: { name: string; text?: boolean; children: JSX.Element }) {
  return (
    <div class="stat">
      <span class="muted">{props.name}</span>
      <strong classList={{ 'stat-text': props.text }}>{props.children}</strong>
    </div>
  );
}
