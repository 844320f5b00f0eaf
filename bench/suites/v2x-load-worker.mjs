// Bootstrap of the v2x suite's load generator thread: registers tsx (workers do not inherit
// the parent's loader), then loads the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./v2x-load-worker.ts');
