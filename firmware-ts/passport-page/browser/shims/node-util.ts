// node:util for the browser build: only `inspect.custom`, the symbol by which ledger objects
// (a private key) say how they print. Nothing is printed through it in the browser.
export const inspect = Object.assign(() => '[object]', { custom: Symbol.for('nodejs.util.inspect.custom') });
export default { inspect };
