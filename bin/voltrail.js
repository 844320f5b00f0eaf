#!/usr/bin/env node
// Entry point of the `voltrail` command: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../firmware-ts/cli/main.ts');
