// Worker-thread entry: worker threads do not inherit the TypeScript loader that bin/voltrail.js
// registers, so each worker registers it before importing the TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./rate-worker.ts');
