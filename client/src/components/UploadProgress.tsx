import { Show } from 'solid-js';
import { formatBytes, formatCount, formatDuration } from '../format.ts';
import type { RunView } from '../upload/uploadRun.ts';

interface Props {
  view: RunView;
  onPause: () => void;
  onResume: () => void;
  onCancel: () => void;
}

function formatEta(ms: number | null): string {
  return ms === null ? '–' : formatDuration(ms);
}

/** Aggregated progress of the whole folder: files, bytes, speed and ETA, with pause / resume / cancel. */
export function UploadProgress(props: Props) {
  const toSend = () => props.view.toSend;
  const progress = () => props.view.progress;
  const percent = () => {
    const total = toSend().bytes;
    if (total === 0) return toSend().files === 0 ? 100 : 0;
    return Math.min(100, (progress().bytesMoved / total) * 100);
  };
  return (
    <section class="card" aria-labelledby="progress-title">
      <div class="toolbar">
        <h2 id="progress-title">
          {props.view.phase === 'paused' ? 'Paused' : props.view.phase === 'finishing' ? 'Finishing' : 'Uploading'}
        </h2>
        <div class="inline-form">
          <Show when={props.view.phase === 'uploading'}>
            <button type="button" onClick={() => props.onPause()}>
              Pause
            </button>
          </Show>
          <Show when={props.view.phase === 'paused'}>
            <button type="button" class="primary" onClick={() => props.onResume()}>
              Resume
            </button>
          </Show>
          <button type="button" class="danger" onClick={() => props.onCancel()}>
            Cancel upload
          </button>
        </div>
      </div>
      <div
        class="progress"
        role="progressbar"
        aria-label="Bytes sent"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow={Math.round(percent())}
      >
        <div style={{ width: `${percent()}%` }} />
      </div>
      <div class="stats" data-testid="progress-stats">
        <div class="stat">
          <span class="muted">Files</span>
          <strong>
            {formatCount(progress().done.files)} / {formatCount(toSend().files)}
          </strong>
        </div>
        <div class="stat">
          <span class="muted">Bytes</span>
          <strong>
            {formatBytes(progress().bytesMoved)} / {formatBytes(toSend().bytes)}
          </strong>
        </div>
        <div class="stat">
          <span class="muted">Speed</span>
          <strong>{formatBytes(progress().bytesPerSecond)}/s</strong>
          <span class="muted">{progress().filesPerSecond.toFixed(1)} files/s</span>
        </div>
        <div class="stat">
          <span class="muted">Time left</span>
          <strong>{formatEta(progress().etaMs)}</strong>
        </div>
        <div class="stat">
          <span class="muted">Failed</span>
          <strong>{formatCount(progress().failed)}</strong>
        </div>
      </div>
    </section>
  );
}
