// Bootstrap of a signing-pool worker thread. Workers do not inherit the parent's TypeScript
// loader when it was registered through the API (as bin/voltrail.js does), so this plain
// JavaScript file registers tsx in the worker, then loads the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
