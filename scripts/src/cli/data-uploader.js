#!/usr/bin/env node
// The installed `data-uploader` command: the CLI is TypeScript run through tsx, as `pnpm uploader` does.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
