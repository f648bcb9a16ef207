import { A, useParams } from '@solidjs/router';
import Dashboard from '@uppy/dashboard';
import { createMemo, createResource, createSignal, onCleanup, Show } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { FailedFiles } from '../components/FailedFiles.tsx';
import { InterruptedSession } from '../components/InterruptedSession.tsx';
import { PlanSummary } from '../components/PlanSummary.tsx';
import { UploadProgress } from '../components/UploadProgress.tsx';
import { UploadResult } from '../components/UploadResult.tsx';
import { formatBytes, formatCount } from '../format.ts';
import { me } from '../me.ts';
import { trpc } from '../trpc.ts';
import { interceptDashboardInput } from '../upload/dropTarget.ts';
import { scanTree } from '../upload/folderScan.ts';
import { folderPickerAvailable, pickFolder } from '../upload/folderSources.ts';
import { UploadRun } from '../upload/uploadRun.ts';
import type { WindowMeta } from '../upload/uppyUploader.ts';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

/** Upload a folder into one cycle: drop or pick, see the plan, send, and see what the bucket verified. */
export function Upload() {
  const params = useParams<{ projectId: string; cycleId: string }>();
  const [project] = createResource(
    () => params.projectId,
    (id) => trpc.projects.get.query({ id }),
  );
  const cycle = () => project()?.cycles.find((candidate) => candidate.id === params.cycleId);
  const [interrupted, { mutate: setInterrupted }] = createResource(
    () => params.cycleId,
    async (cycleId) => {
      const sessions = await trpc.sessions.list.query({ cycleId, limit: 50 });
      return sessions.find((s) => s.status === 'active' && s.source === 'browser' && s.userId === me()?.id) ?? null;
    },
  );
  const [version, setVersion] = createSignal(0);
  const [actionError, setActionError] = createSignal<unknown>();
  let frame = 0;
  const changed = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      setVersion((v) => v + 1);
    });
  };
  const [label, setLabel] = createSignal('');
  let run: UploadRun | undefined;
  const view = createMemo(() => {
    version();
    return run?.view();
  });
  // Speed decays while nothing moves only if someone looks again.
  const ticker = setInterval(changed, 1000);

  const ensureRun = () => {
    run ??= new UploadRun({
      api: trpc,
      projectId: params.projectId,
      cycleId: params.cycleId,
      sessionId: interrupted()?.id ?? null,
      label: label(),
      onChange: changed,
    });
    return run;
  };

  const mountDashboard = (element: HTMLDivElement) => {
    const uploader = ensureRun();
    uploader.uppy.use(Dashboard, {
      inline: true,
      target: element,
      width: '100%',
      height: 300,
      fileManagerSelectionType: 'both',
      hideUploadButton: true,
      hidePauseResumeButton: true,
      hideCancelButton: true,
      hideRetryButton: true,
      disableStatusBar: true,
      disableThumbnailGenerator: true,
      proudlyDisplayPoweredByUppy: false,
      showRemoveButtonAfterComplete: false,
      note: 'Drop the SD-card folder (sensor folders inside) or choose it. Hidden and system files are left out.',
    });
    const stop = interceptDashboardInput(
      element,
      uploader.counters,
      (batches) => void uploader.addFiles(batches),
      () =>
        uploader.uppy
          .getPlugin<Dashboard<WindowMeta, Record<string, never>>>('Dashboard')
          ?.setPluginState({ isDraggingOver: false }),
    );
    onCleanup(stop);
  };

  const onPageHide = () => run?.flushOnExit();
  window.addEventListener('pagehide', onPageHide);
  onCleanup(() => {
    window.removeEventListener('pagehide', onPageHide);
    clearInterval(ticker);
    cancelAnimationFrame(frame);
    run?.destroy();
  });

  const act = (action: () => Promise<void> | void) => async () => {
    setActionError(undefined);
    try {
      await action();
    } catch (error) {
      setActionError(error);
    }
    changed();
  };

  const choose = act(async () => {
    const folder = await pickFolder();
    const uploader = ensureRun();
    if (folder) await uploader.addFiles(scanTree([folder], uploader.counters));
  });

  const discard = act(async () => {
    const session = interrupted();
    if (!session) return;
    await trpc.uploads.abort.mutate({ sessionId: session.id });
    setInterrupted(null);
    if (run && run.phase === 'idle') run.sessionId = null;
  });

  const cancel = act(async () => {
    if (!window.confirm('Cancel this upload? Files already sent stay in the bucket; the rest is not sent.')) return;
    await run?.cancel();
  });

  return (
    <>
      <p class="muted">
        <A href={`/projects/${params.projectId}`}>{project()?.name ?? 'Project'}</A> › {cycle()?.name ?? 'cycle'}
      </p>
      <h1>Upload to {cycle()?.name ?? '…'}</h1>
      <ErrorMessage error={project.error ?? interrupted.error} />
      <Show when={cycle() && cycle()?.status !== 'open'}>
        <p class="notice">This cycle is closed; an admin can reopen it before anything is uploaded.</p>
      </Show>
      <Show when={interrupted() && view()?.phase === 'idle'}>
        <InterruptedSession
          session={interrupted() as NonNullable<ReturnType<typeof interrupted>>}
          onDiscard={discard}
        />
      </Show>
      <Show when={!interrupted.loading}>
        <Show when={view()?.phase === 'idle'}>
          <div class="inline-form upload-options">
            <label>
              Label (optional)
              <input
                value={label()}
                maxlength="200"
                onInput={(event) => setLabel(event.currentTarget.value)}
                placeholder="e.g. Site 3, September visit"
              />
            </label>
            <Show when={folderPickerAvailable()}>
              <button type="button" onClick={choose}>
                Choose folder…
              </button>
            </Show>
          </div>
        </Show>
        <div class="dashboard" ref={mountDashboard} />
      </Show>
      <ErrorMessage error={actionError() ?? view()?.error} />
      <Show when={view()?.phase !== 'idle' ? view() : undefined}>
        {(current) => (
          <>
            <Show when={current().result}>{(session) => <UploadResult session={session()} />}</Show>
            <Show when={!current().started && current().phase === 'planning'}>
              <div class="toolbar card">
                <span>
                  {formatCount(current().toSend.files)} files ({formatBytes(current().toSend.bytes)}) to send
                  {current().scanning ? ' so far' : ''}.
                </span>
                <button type="button" class="primary" onClick={() => run?.start()}>
                  {current().toSend.files === 0 && !current().scanning ? 'Finish' : 'Upload'}
                </button>
              </div>
            </Show>
            <Show when={current().started && current().phase !== 'finished' && current().phase !== 'cancelled'}>
              <UploadProgress
                view={current()}
                onPause={() => run?.pause()}
                onResume={() => run?.resume()}
                onCancel={cancel}
              />
            </Show>
            <FailedFiles view={current()} onRetry={() => run?.retryFailed()} onFinish={() => run?.finishNow()} />
            <PlanSummary view={current()} onOverwrite={act(() => run?.overwriteConflicts())} />
          </>
        )}
      </Show>
    </>
  );
}
