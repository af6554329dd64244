/**
 * Where things are printed: results on stdout (one JSON document with --output json), everything else on
 * stderr; spinners only on an interactive stderr.
 */
import { createInterface } from 'node:readline/promises';
import { styleText } from 'node:util';
import { InterruptedError } from '../errors.js';
import { startProgress, type ProgressLine } from './progress.js';

export type OutputFormat = 'text' | 'json';

/** Printing for one run. */
export interface Ui {
  readonly format: OutputFormat;
  readonly color: boolean;
  /** A result line (text output only). */
  out(text: string): void;
  /** The one JSON document of a run. */
  json(document: unknown): void;
  /** Progress and notes for people, on stderr (silenced by --quiet). */
  info(text: string): void;
  /** Warnings, on stderr even with --quiet. */
  warn(text: string): void;
  /** Details shown with --verbose. */
  debug(text: string): void;
  /** Runs `task` under a spinner (interactive stderr only) or a plain progress line with --verbose. */
  step<T>(title: string, task: () => Promise<T>): Promise<T>;
  style(format: 'bold' | 'red' | 'yellow' | 'green' | 'dim' | 'cyan', text: string): string;
  /** A live line for a wait on stderr (redrawn on a terminal; a line per change or 30 s in a log; none with --quiet). */
  progress(title: string): ProgressLine;
}

export interface UiOptions {
  format: OutputFormat;
  color: boolean;
  quiet: boolean;
  verbose: boolean;
}

/**
 * `text` with every control character (C0 but newline, DEL, C1) shown as `\xNN`, so that nothing a user,
 * a file or an API returned can move the cursor, retitle the terminal or hide text. `keepColour` lets the
 * SGR colour sequences our own styling makes through (and nothing else that starts with ESC).
 */
export function escapeControl(text: string, options: { keepColour?: boolean; keepNewlines?: boolean } = {}): string {
  const keepNewlines = options.keepNewlines ?? true;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const pattern = options.keepColour ? /\x1b\[[0-9;]*m|[\x00-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g;
  return text.replace(pattern, (ch) => {
    if (ch.length > 1) return ch;
    if (ch === '\n' && keepNewlines) return ch;
    if (ch === '\t') return ch;
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** A Ui on the process's stdout and stderr. */
export function createUi(options: UiOptions): Ui {
  // A terminal of width 0 (a pty nobody sized, e.g. under `script` in CI) sends ora into an endless redraw.
  const interactive =
    Boolean(process.stderr.isTTY) && (process.stderr.columns ?? 0) > 0 && !process.env.CI && !options.quiet;
  const color = options.color && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
  const errColor = options.color && !process.env.NO_COLOR && Boolean(process.stderr.isTTY);
  return {
    format: options.format,
    color,
    out: (text) => {
      if (options.format === 'text') process.stdout.write(`${escapeControl(text, { keepColour: true })}\n`);
    },
    json: (document) => process.stdout.write(`${JSON.stringify(document, null, 2)}\n`),
    info: (text) => {
      if (!options.quiet) process.stderr.write(`${escapeControl(text, { keepColour: true })}\n`);
    },
    warn: (text) => process.stderr.write(`${errColor ? styleText('yellow', escapeControl(text)) : escapeControl(text)}\n`),
    debug: (text) => {
      if (options.verbose) process.stderr.write(`${escapeControl(text, { keepColour: true })}\n`);
    },
    async step(title, task) {
      if (!interactive) {
        if (options.verbose) process.stderr.write(`… ${title}\n`);
        return task();
      }
      const { default: ora } = await import('ora');
      const spinner = ora({ text: title, stream: process.stderr, ...(errColor ? {} : { color: false as const }) }).start();
      try {
        const result = await task();
        spinner.succeed();
        return result;
      } catch (error) {
        spinner.fail();
        throw error;
      }
    },
    style: (format, text) => (color ? styleText(format, text) : text),
    progress: (title) =>
      startProgress(title, {
        mode: options.quiet ? 'off' : interactive ? 'tty' : 'log',
        write: (text) => process.stderr.write(text),
      }),
  };
}

/** Asks a yes/no question on an interactive terminal (stdin and stderr); false when there is none. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } catch (error) {
    // Ctrl-C (or Ctrl-D) at the prompt: readline rejects with "Aborted with Ctrl+C"; nothing was changed yet.
    if ((error as { code?: string }).code === 'ABORT_ERR' || /Aborted/.test(String((error as Error).message))) {
      process.stderr.write('\n');
      throw new InterruptedError('Interrupted at the prompt; nothing was changed.');
    }
    throw error;
  } finally {
    rl.close();
  }
}
