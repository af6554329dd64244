/**
 * How deep a JSON or YAML text nests, read from the text alone, before any parser or walker recurses into it.
 * The YAML parser recurses per level (20,000 levels of `[` overflow the stack; 20,000 of `- ` abort the process
 * out of memory), and so do our own walkers, so every text vpccni parses is measured here first.
 * Pure and format-only: no EKS knowledge; the sandbox uses it too.
 */
import { UsageError } from '../errors.js';

/** The deepest nesting an input may have. Real inputs stay far below it: a backup's managedFields reach ~20. */
export const MAX_NESTING = 100;

/** Where a text first nests deeper than allowed (1-based). */
export interface TooDeep {
  line: number;
  column: number;
  max: number;
}

const INDICATOR = /^([-?:])(?=\s|$)/;
const BLOCK_SCALAR = /(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?$/;

/**
 * Where `text` (JSON or YAML) first nests deeper than `max` levels, or null. An upper bound: block levels by
 * indentation and compact indicators (`- - x`), flow levels by brackets outside quotes and comments.
 */
export function nestingTooDeep(text: string, max: number = MAX_NESTING): TooDeep | null {
  const lines = text.split(/\r?\n/);
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | null = null;
  let scalarIndent = -1; // inside a block scalar (| or >): lines indented deeper than this are text
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const indent = line.length - line.trimStart().length;
    if (scalarIndent >= 0) {
      if (line.trim() === '' || indent > scalarIndent) continue;
      scalarIndent = -1;
    }
    let block = indents.length;
    let i = 0;
    if (quote === null && flow === 0) {
      const rest = line.trimStart();
      if (rest === '' || rest.startsWith('#')) continue;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      block = indents.length;
      i = indent;
      // Compact nesting on one line: every `- `, `? ` or `: ` before the content is a level of its own.
      for (let m = INDICATOR.exec(line.slice(i)); m; m = INDICATOR.exec(line.slice(i))) {
        block += 1;
        i += 1;
        while (i < line.length && /\s/.test(line[i]!)) i += 1;
      }
      if (block + flow > max) return { line: n + 1, column: i + 1, max };
      if (BLOCK_SCALAR.test(line)) scalarIndent = indent;
    }
    let previous = i > 0 ? line[i - 1]! : ' ';
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (quote === '"') {
        if (c === '\\') i += 1;
        else if (c === '"') quote = null;
      } else if (quote === "'") {
        if (c === "'" && line[i + 1] === "'") i += 1;
        else if (c === "'") quote = null;
      } else if (c === '#' && /\s/.test(previous)) {
        break;
      } else if ((c === '"' || c === "'") && /[\s[{,:]/.test(previous)) {
        quote = c;
      } else if ((c === '[' || c === '{') && (flow > 0 || /[\s[{,:?-]/.test(previous))) {
        flow += 1;
        if (block + flow > max) return { line: n + 1, column: i + 1, max };
      } else if ((c === ']' || c === '}') && flow > 0) {
        flow -= 1;
      } else if (c === '[' || c === '{') {
        previous = 'x'; // part of a plain scalar ("a: x[[["): opens nothing, and neither does the next one
        continue;
      }
      previous = c;
    }
  }
  return null;
}

/**
 * Throws a UsageError (exit 2, one sentence) when `text` nests deeper than allowed. `what` names the input as
 * the subject of the sentence ("--configuration-values"), `hint` says what to do.
 */
export function assertNesting(text: string, what: string, hint: string): void {
  const deep = nestingTooDeep(text);
  if (deep) throw new UsageError(`${what} nests deeper than ${deep.max} levels (at line ${deep.line}, column ${deep.column}); ${hint}.`);
}
