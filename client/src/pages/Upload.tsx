import { A, useParams } from '@solidjs/router';
import { createEffect, createMemo, createResource, createSignal, on, onCleanup, Show } from 'solid-js';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { FailedFiles } from '../components/FailedFiles.tsx';
import { InterruptedSession } from '../components/InterruptedSession.tsx';
import { NetworkNotice } from '../components/NetworkNotice.tsx';
import { PlanSummary } from '../components/PlanSummary.tsx';
import { UploadDropZone } from '../components/UploadDropZone.tsx';
import { UploadProgress } from '../components/UploadProgress.tsx';
import { UploadResult } from '../components/UploadResult.tsx';
import { formatBytes, formatCount } from '../format.ts';
import { me } from '../me.ts';
import { allowed } from '../permissions.ts';
import { trpc } from '../trpc.ts';
import { UploadRun } from '../upload/uploadRun.ts';

/** The shortest time between two drawings of the page while a folder is planned or uploaded. */
const streamingRedrawMs = 250;

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
  const blocker = () => {
    if (!allowed('uploads.begin')) return 'You can look at this cycle, but your role does not upload.';
    if (project()?.archivedAt)
      return 'This project is archived; an admin can unarchive it before anything is uploaded.';
    if (cycle() && cycle()?.status !== 'open')
      return 'This cycle is closed; an admin can reopen it before anything is uploaded.';
    return null;
  };

  const [version, setVersion] = createSignal(0);
  const [actionError, setActionError] = createSignal<unknown>();
  const [label, setLabel] = createSignal('');
  const [run, setRun] = createSignal<UploadRun>();
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drawnAt = 0;
  const draw = () => {
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawnAt = performance.now();
      setVersion((v) => v + 1);
    });
  };
  const changed = () => {
    if (frame || timer) return;
    // While a folder is read and planned or its bytes move, counts drawn a few times a second read as well as at
    // 60 frames, and the main thread's time goes to the scan and the uploads instead.
    const streaming = run()?.phase === 'planning' || run()?.phase === 'uploading';
    const wait = streaming ? drawnAt + streamingRedrawMs - performance.now() : 0;
    if (wait <= 0) return draw();
    timer = setTimeout(() => {
      timer = undefined;
      draw();
    }, wait);
  };
  const view = createMemo(() => {
    version();
    return run()?.view();
  });
  const newRun = (sessionId: string | null) => {
    run()?.destroy();
    setRun(
      new UploadRun({
        api: trpc,
        projectId: params.projectId,
        cycleId: params.cycleId,
        sessionId,
        label,
        onChange: changed,
      }),
    );
  };
  createEffect(on(interrupted, (session) => session !== undefined && !run() && newRun(session?.id ?? null)));

  // Speed decays while nothing moves only if someone looks again.
  const ticker = setInterval(changed, 1000);
  const onPageHide = () => run()?.flushOnExit();
  window.addEventListener('pagehide', onPageHide);
  onCleanup(() => {
    window.removeEventListener('pagehide', onPageHide);
    clearInterval(ticker);
    clearTimeout(timer);
    cancelAnimationFrame(frame);
    run()?.destroy();
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
  const discard = act(async () => {
    const session = interrupted();
    if (!session) return;
    await trpc.uploads.abort.mutate({ sessionId: session.id });
    setInterrupted(null);
    newRun(null);
  });
  const cancel = act(async () => {
    if (!window.confirm('Cancel this upload? Files already sent stay in the bucket; the rest is not sent.')) return;
    await run()?.cancel();
  });
  const idle = () => view()?.phase === 'idle';

  return (
    <>
      <p class="muted">
        <A href={`/projects/${params.projectId}`}>{project()?.name ?? 'Project'}</A> › {cycle()?.name ?? 'cycle'}
      </p>
      <h1>Upload to {cycle()?.name ?? '…'}</h1>
      <ErrorMessage error={project.error ?? interrupted.error} />
      <Show when={project() && blocker()}>
        <p class="notice">{blocker()}</p>
      </Show>
      <Show when={project() && !blocker()}>
        <Show when={idle() ? interrupted() : null}>
          {(session) => <InterruptedSession session={session()} onDiscard={discard} />}
        </Show>
        <Show when={idle()}>
          <label class="upload-label">
            Label (optional)
            <input
              value={label()}
              maxlength="200"
              onInput={(event) => setLabel(event.currentTarget.value)}
              placeholder="e.g. Site 3, September visit"
            />
          </label>
        </Show>
        {/* The Dashboard re-renders its window on every Uppy state change; once bytes move, the aggregated
            progress below says more for far less of the page's time, so the drop zone goes away. */}
        <Show when={view()?.started ? undefined : run()} keyed>
          {(current) => <UploadDropZone run={current} />}
        </Show>
      </Show>
      <ErrorMessage error={actionError() ?? view()?.error} />
      <Show when={idle() ? undefined : view()}>
        {(current) => (
          <>
            <Show when={current().result}>
              {(session) => (
                <>
                  <UploadResult session={session()} />
                  <p>
                    <button type="button" onClick={() => newRun(null)}>
                      Upload another folder
                    </button>
                  </p>
                </>
              )}
            </Show>
            <Show when={!current().started && current().phase === 'planning'}>
              <div class="toolbar card">
                <span>
                  {formatCount(current().toSend.files)} files ({formatBytes(current().toSend.bytes)}) to send
                  {current().scanning ? ' so far' : ''}.
                </span>
                <button type="button" class="primary" onClick={() => run()?.start()}>
                  {current().toSend.files === 0 && !current().scanning ? 'Finish' : 'Upload'}
                </button>
              </div>
            </Show>
            <Show when={current().phase !== 'finished' && current().phase !== 'cancelled'}>
              <NetworkNotice network={current().network} />
            </Show>
            <Show when={current().started && current().phase !== 'finished' && current().phase !== 'cancelled'}>
              <UploadProgress
                view={current()}
                onPause={() => run()?.pause()}
                onResume={() => run()?.resume()}
                onCancel={cancel}
              />
            </Show>
            <FailedFiles view={current()} onRetry={() => run()?.retryFailed()} onFinish={() => run()?.finishNow()} />
            <PlanSummary view={current()} onOverwrite={act(() => run()?.overwriteConflicts())} />
          </>
        )}
      </Show>
    </>
  );
}
