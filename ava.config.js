// ava runs TypeScript through tsx in child processes: worker threads break both tsx and
// serialport's native poller (TOOLCHAIN.md).
export default {
  files: ['test/**/*.test.ts', '!test/slow/**'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  // A test that waits this long with nothing finishing has hung; CLI tests start real processes.
  timeout: '3m',
  concurrency: 2,
};
