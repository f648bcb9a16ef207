import Dashboard from '@uppy/dashboard';
import { onCleanup } from 'solid-js';
import { interceptDashboardInput } from '../upload/dropTarget.ts';
import type { UploadRun } from '../upload/uploadRun.ts';
import type { WindowMeta } from '../upload/uppyUploader.ts';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';

type RunDashboard = Dashboard<WindowMeta, Record<string, never>>;

/**
 * Uppy's Dashboard as the place to drop or pick a folder; it shows the files of the current window while they
 * are sent. What is dropped or picked goes to the run's own scan, never straight into Uppy.
 */
export function UploadDropZone(props: { run: UploadRun }) {
  const mount = (element: HTMLDivElement) => {
    const { run } = props;
    run.uppy.use(Dashboard, {
      inline: true,
      target: element,
      width: '100%',
      height: 280,
      fileManagerSelectionType: 'both',
      hideUploadButton: true,
      hidePauseResumeButton: true,
      hideCancelButton: true,
      hideRetryButton: true,
      disableStatusBar: true,
      disableThumbnailGenerator: true,
      proudlyDisplayPoweredByUppy: false,
      showRemoveButtonAfterComplete: false,
    });
    const dashboard = run.uppy.getPlugin<RunDashboard>('Dashboard');
    const stop = interceptDashboardInput(
      element,
      run.counters,
      (batches) => void run.addFiles(batches),
      () => dashboard?.setPluginState({ isDraggingOver: false }),
    );
    onCleanup(() => {
      stop();
      if (dashboard) run.uppy.removePlugin(dashboard);
    });
  };

  return (
    <>
      <div class="dashboard" ref={mount} />
      <p class="hint">
        Drop the SD-card folder (sensor folders inside), or browse for it. Hidden and system files are left out. A
        folder of tens of thousands of files is quicker to drop: a chosen one is listed whole by the browser first.
      </p>
    </>
  );
}
