// Asks for a secret on the controlling terminal without echoing it: raw mode on stdin, the
// question on stderr (stdout stays clean for data). Backspace edits, Enter ends, Ctrl-C and
// Ctrl-D abort. Only offered when stdin is a terminal.

export function hiddenPromptAvailable(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return stdin.isTTY === true && typeof stdin.setRawMode === 'function';
}

export function promptHidden(question: string, stdin: NodeJS.ReadStream = process.stdin, out: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    // Raw mode (no echo) before the question appears: what is typed after seeing it never echoes.
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    out.write(question);
    let answer = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      out.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new Error('cancelled (Ctrl-C)'));
        if (ch === '\u0004') return finish(new Error('cancelled (Ctrl-D)'));
        if (ch === '\u007f' || ch === '\b') answer = [...answer].slice(0, -1).join('');
        else if (ch >= ' ') answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}
