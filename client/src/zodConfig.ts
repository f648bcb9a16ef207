import { z } from 'zod';

// Zod probes whether it may compile parsers with `new Function`; under the server's Content-Security-Policy
// (no 'unsafe-eval') that probe is a reported violation. Imported first by every bundle entry (page, worker).
z.config({ jitless: true });
