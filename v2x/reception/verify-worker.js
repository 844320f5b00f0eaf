// Bootstrap of a signature-verification worker thread (verify-workers.ts). Workers do not
// inherit the parent's TypeScript loader when it was registered through the API (as
// bin/voltrail.js does), so this plain JavaScript file registers tsx, then loads the body.
import { register } from 'tsx/esm/api';

register();
await import('./verify-worker.ts');
