import { createInterface } from 'node:readline';

/** One line from the terminal. */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

/** A password typed without echo on a terminal; otherwise the first line of stdin (for scripts). */
export async function askPassword(question: string): Promise<string> {
  if (!process.stdin.isTTY) return firstLineOfStdin();
  process.stderr.write(question);
  const rl = createInterface({ input: process.stdin, output: undefined, terminal: true });
  try {
    return await new Promise((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}
