import type { SensorManifest } from '@data-uploader/shared';
import { For, Index, Show } from 'solid-js';
import { formatBytes, formatCount, printablePath } from '../format.ts';
import type { RunView } from '../upload/uploadRun.ts';

interface Props {
  view: RunView;
  onOverwrite: () => void;
}

function Stat(props: { label: string; files: number; bytes?: number; tone?: string }) {
  return (
    <div class={`stat ${props.tone ?? ''}`} data-stat={props.label}>
      <span class="muted">{props.label}</span>
      <strong>{formatCount(props.files)}</strong>
      <Show when={props.bytes !== undefined}>
        <span class="muted">{formatBytes(props.bytes ?? 0)}</span>
      </Show>
    </div>
  );
}

/** What the folder holds and what the ledger says about it, before and while bytes move. */
export function PlanSummary(props: Props) {
  const totals = () => props.view.totals;
  return (
    <section aria-labelledby="plan-title" class="card">
      <h2 id="plan-title">
        Plan{' '}
        <Show when={props.view.scanning}>
          <span class="badge warn">reading the folder… {formatCount(props.view.counters.found)} files</span>
        </Show>
      </h2>
      <div class="stats" data-testid="plan-stats">
        <Stat label="New" files={totals().upload.files} bytes={totals().upload.bytes} />
        <Stat label="Resumable" files={totals().resume.files} bytes={totals().resume.bytes} />
        <Stat label="Already uploaded (skipped)" files={totals().skip.files} bytes={totals().skip.bytes} />
        <Stat label="Conflicts" files={totals().conflict.files} bytes={totals().conflict.bytes} />
        <Stat label="Invalid names" files={totals().invalid.files} />
        <Stat label="System files left out" files={props.view.counters.skippedSystem} />
      </div>
      <Show when={totals().conflict.files > 0}>
        <div class="notice" role="status">
          <p>
            {formatCount(totals().conflict.files)} files were already uploaded with another size (or are being sent by
            another session). They are skipped unless you overwrite them.
          </p>
          <button type="button" onClick={() => props.onOverwrite()}>
            Overwrite {formatCount(totals().conflict.files)} conflicting files
          </button>
          <ProblemList title="Conflicting files" items={props.view.conflicts} />
        </div>
      </Show>
      <Show when={totals().invalid.files > 0}>
        <ProblemList
          title={`${formatCount(totals().invalid.files)} files cannot be uploaded`}
          items={props.view.invalid}
        />
      </Show>
      <SensorTable {...props} />
    </section>
  );
}

function ProblemList(props: { title: string; items: Array<{ relativePath: string; reason?: string }> }) {
  return (
    <details>
      <summary>{props.title}</summary>
      <ul class="problems">
        <For each={props.items}>
          {(item) => (
            <li>
              <code>{printablePath(item.relativePath)}</code> — {item.reason}
            </li>
          )}
        </For>
      </ul>
    </details>
  );
}

const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** First – last recording time, from the names (or last-modified where a name has no time in it). */
function recordingSpan(manifest: SensorManifest | undefined): string {
  if (!manifest) return '…';
  if (!manifest.firstRecording || !manifest.lastRecording) return '–';
  return `${minute(manifest.firstRecording)} – ${minute(manifest.lastRecording)}`;
}

function gapTitle(manifest: SensorManifest | undefined): string | undefined {
  if (!manifest?.gaps.length) return undefined;
  return manifest.gaps.map((gap) => `${minute(gap.after)} → ${minute(gap.before)}`).join('\n');
}

function SensorTable(props: Props) {
  const sensors = () => props.view.sensors;
  return (
    <Show when={sensors().length > 0}>
      <table aria-label="Per sensor folder">
        <thead>
          <tr>
            <th>Sensor folder</th>
            <th class="number">Files</th>
            <th class="number">Bytes</th>
            <th class="number">To send</th>
            <th class="number">Sent</th>
            <th>Recordings</th>
            <th class="number">Gaps</th>
            <th class="number">Odd names</th>
          </tr>
        </thead>
        <tbody>
          {/* By place, not by object: each redraw (4 a second while uploading) brings copies of every sensor's tally,
              and rows made again for them cost the page more style and layout than the upload itself. */}
          <Index each={sensors()}>
            {(sensor) => {
              const sent = () => props.view.progress.perSensor.get(sensor().sensor);
              const manifest = () => props.view.manifest?.find((entry) => entry.sensor === sensor().sensor);
              return (
                <tr>
                  <td>{sensor().sensor}</td>
                  <td class="number">{formatCount(sensor().found.files)}</td>
                  <td class="number">{formatBytes(sensor().found.bytes)}</td>
                  <td class="number">
                    {formatCount(sensor().toSend.files)} · {formatBytes(sensor().toSend.bytes)}
                  </td>
                  <td class="number">
                    {formatCount(sent()?.files ?? 0)} · {formatBytes(sent()?.bytes ?? 0)}
                  </td>
                  <td>{recordingSpan(manifest())}</td>
                  <td class="number" title={gapTitle(manifest())}>
                    {manifest() ? formatCount(manifest()?.gapCount ?? 0) : '…'}
                  </td>
                  <td class="number" title={manifest()?.offPattern.examples.join('\n')}>
                    {manifest() ? formatCount(manifest()?.offPattern.count ?? 0) : '…'}
                  </td>
                </tr>
              );
            }}
          </Index>
        </tbody>
      </table>
    </Show>
  );
}
