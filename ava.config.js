// ava runs TypeScript through tsx in child processes: worker threads break both tsx and
// serialport's native poller (TOOLCHAIN.md).
export default {
  files: ['test/**/*.test.ts', '!test/slow/**'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '60s',
  concurrency: 2,
};
