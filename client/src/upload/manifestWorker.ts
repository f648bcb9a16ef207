import '../zodConfig.ts';
import { type ManifestFile, sensorManifest } from '@data-uploader/shared';

// The manifest sorts every file's time per sensor: seconds for 100k files, so off the page's main thread.
self.onmessage = (event: MessageEvent<ManifestFile[]>) => {
  self.postMessage(sensorManifest(event.data));
};
