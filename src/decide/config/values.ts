/**
 * Reading configuration values as users give them (`--configuration-values <json|yaml|@file>`) and as EKS
 * stores them (DescribeAddon's `configurationValues`, the text exactly as it was sent, JSON or YAML).
 */
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { UsageError } from '../../errors.js';
import { readRegularFile } from '../../gather/input-file.js';
import { assertNesting } from '../../formats/nesting.js';

/** Keys that would reach an object's prototype if any code merged the values naively: always refused. */
export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** How many aliases a YAML text may use (a "billion laughs" text uses millions). */
export const MAX_YAML_ALIASES = 100;

/** The largest configuration values text we accept (256 KiB). */
export const MAX_CONFIGURATION_VALUES_BYTES = 256 * 1024;

/** Parsed configuration values: the object, and the text to send to EKS unchanged. */
export interface ParsedConfigurationValues {
  value: Record<string, unknown>;
  text: string;
}

/** Where a parse failed, 1-based. */
interface ParseFailure {
  message: string;
  line: number;
  column: number;
}

/**
 * Parses `--configuration-values`: JSON text, YAML text, or `@path` naming a file holding either. `{}` is
 * valid and means "remove all custom configuration, back to the add-on's defaults". Throws a UsageError
 * (one sentence, with line and column) for empty, oversized, unreadable, malformed or non-object input.
 */
export function parseConfigurationValues(
  input: string,
  options: { readFile?: (path: string) => string; flag?: string } = {},
): ParsedConfigurationValues {
  const flag = options.flag ?? '--configuration-values';
  let text = input;
  let source = flag;
  if (input.trimStart().startsWith('@')) {
    const path = input.trimStart().slice(1).trim();
    if (path === '') throw new UsageError(`${flag} @ needs a file name after the @, e.g. ${flag} @values.yaml.`);
    source = `${flag} file ${path}`;
    text = readValuesFile(path, flag, options.readFile);
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIGURATION_VALUES_BYTES) {
    throw new UsageError(
      `${source} is ${Math.ceil(Buffer.byteLength(text, 'utf8') / 1024)} KiB, more than the ${MAX_CONFIGURATION_VALUES_BYTES / 1024} KiB allowed; pass only the settings you change.`,
    );
  }
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new UsageError(
      `${source} is empty; pass a JSON or YAML object such as {"env":{"WARM_IP_TARGET":"5"}}, or {} to reset every setting to its default.`,
    );
  }
  assertNesting(trimmed, source, 'configuration values are a few levels deep, so check what was passed');
  const value = parseObjectText(trimmed, (failure) =>
    new UsageError(
      `${source} is not valid JSON or YAML: ${failure.message} at line ${failure.line}, column ${failure.column}.`,
    ),
  );
  if (!isPlainObject(value)) {
    throw new UsageError(
      `${source} must be an object such as {"env":{"WARM_IP_TARGET":"5"}}, not ${describeKind(value)}.`,
    );
  }
  return { value, text: trimmed };
}

/**
 * Parses the configuration values EKS stores for an add-on (JSON or YAML text, as sent); null, empty or
 * whitespace-only text means no custom configuration and gives `{}`. Throws a UsageError if unreadable.
 */
export function parseStoredConfigurationValues(text: string | null | undefined): Record<string, unknown> {
  if (text === null || text === undefined || text.trim() === '') return {};
  assertNesting(text, "The add-on's stored configuration values", 'fix them with update-addon --configuration-values');
  const value = parseObjectText(text.trim(), (failure) =>
    new UsageError(
      `The add-on's stored configuration values are not valid JSON or YAML (${failure.message} at line ${failure.line}, column ${failure.column}); fix them with update-addon --configuration-values.`,
    ),
  );
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new UsageError(
      `The add-on's stored configuration values are ${describeKind(value)}, not an object; fix them with update-addon --configuration-values.`,
    );
  }
  return value;
}

function readValuesFile(path: string, flag: string, readFile?: (path: string) => string): string {
  if (!readFile) {
    return readRegularFile(path, {
      maxBytes: MAX_CONFIGURATION_VALUES_BYTES,
      what: `${flag} names the file ${path}, which`,
      hint: 'check the path after the @',
    });
  }
  try {
    return readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? (error as Error).message})`;
    throw new UsageError(`${flag} names the file ${path}, which ${why}; check the path after the @.`, { cause: error });
  }
}

/**
 * JSON first when the text looks like JSON; otherwise (or when it is not valid JSON but valid YAML, as EKS
 * would read it) YAML. A JSON-looking text that neither parses reports the JSON error's position.
 */
function parseObjectText(text: string, toError: (failure: ParseFailure) => Error): unknown {
  const looksLikeJson = text.startsWith('{') || text.startsWith('[');
  let jsonFailure: ParseFailure | null = null;
  let jsonValue: unknown;
  if (looksLikeJson) {
    try {
      jsonValue = JSON.parse(text) as unknown;
    } catch (error) {
      jsonFailure = describeJsonError(text, (error as Error).message);
    }
  }
  // The YAML parse also checks JSON text: duplicate keys (which JSON.parse lets the last win) and keys
  // that would reach a prototype are refused in both.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError && jsonFailure) throw toError(jsonFailure);
  if (yamlError && jsonValue === undefined) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw toError({ message: yamlError.message.replace(/\s+/g, ' ').replace(/[.;:]$/, ''), line: pos.line, column: pos.col });
  }
  if (yamlError) {
    // Valid JSON that YAML refuses: only a duplicate key matters here.
    if (yamlError.code === 'DUPLICATE_KEY') {
      const pos = lineCounter.linePos(yamlError.pos[0]);
      throw toError({ message: 'a key appears twice in the same object (EKS would refuse it)', line: pos.line, column: pos.col });
    }
    const key = forbiddenJsonKey(jsonValue);
    if (key) throw toError({ message: `the key "${key}" is not allowed`, line: 1, column: 1 });
  } else {
    const forbidden = forbiddenKey(doc);
    if (forbidden) {
      const pos = lineCounter.linePos(forbidden.offset);
      throw toError({ message: `the key "${forbidden.key}" is not allowed`, line: pos.line, column: pos.col });
    }
  }
  if (jsonValue !== undefined) return jsonValue;
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (error) {
    const pos = lineCounter.linePos(0);
    throw toError({ message: `it uses more than ${MAX_YAML_ALIASES} YAML aliases (${(error as Error).message.replace(/[.;:]$/, '')})`, line: pos.line, column: pos.col });
  }
}

function forbiddenJsonKey(value: unknown): string | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const key = forbiddenJsonKey(item);
      if (key) return key;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) return key;
      const found = forbiddenJsonKey(inner);
      if (found) return found;
    }
  }
  return null;
}

/** The first mapping key of `doc` that is in FORBIDDEN_KEYS, with its offset. */
export function forbiddenKey(doc: import('yaml').Document): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key !== null && FORBIDDEN_KEYS.has(key)) {
        found = { key, offset: isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0 };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Finds where JSON.parse failed (Node 20 does not always say) and rewrites its message without position. */
function describeJsonError(text: string, rawMessage: string): ParseFailure {
  const offset = jsonErrorOffset(text);
  let message = rawMessage
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ of JSON input$/, '');
  if (message === '') message = 'invalid JSON';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { message, line, column };
}

/** The offset of the first character that makes `text` invalid JSON (a small recursive-descent scanner). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        i++;
        const esc = text[i];
        if (esc === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) { i += k; fail(); }
          i += 5;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i++;
        else fail();
      } else if (ch < ' ') fail();
      else i++;
    }
    fail();
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '' || match[0] === '-') fail();
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    } else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (offset) {
    if (typeof offset === 'number') return Math.min(offset, text.length);
    throw offset;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : 'the value'} ${String(value)}`;
}
