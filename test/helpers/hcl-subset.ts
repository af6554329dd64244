/**
 * A parser for the subset of HCL that `vpccni plan --output terraform` emits, written for the tests only:
 * `#` comments, `resource "TYPE" "NAME" { … }` blocks whose bodies hold attributes (`name = expr`) and nested
 * blocks (`name { … }`); expressions are quoted strings (HCL escapes, `$${` and `%%{`), numbers, true, false,
 * null, objects `{ key = expr … }`, tuples `[expr, …]` and `jsonencode(expr)`, which it evaluates to the JSON
 * text Terraform would send (keys sorted, as Terraform's maps are). Anything else throws: the emitted code
 * stays in the subset this parser and `terraform fmt -check` both accept.
 */

export interface HclResource {
  type: string;
  name: string;
  /** The comment lines just before the block, without `#`. */
  comments: string[];
  /** Attributes, and nested blocks as arrays of their bodies (a repeated block is a set of objects). */
  body: Record<string, unknown>;
}

class Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  private fail(what: string): never {
    const line = this.text.slice(0, this.i).split('\n').length;
    throw new Error(`HCL subset: ${what} at line ${line}: ${JSON.stringify(this.text.slice(this.i, this.i + 40))}`);
  }

  /** Skips spaces and tabs (and newlines and comments when `lines`); returns the comments skipped. */
  private skip(lines: boolean): string[] {
    const comments: string[] = [];
    for (;;) {
      const ch = this.text[this.i];
      if (ch === ' ' || ch === '\t') this.i++;
      else if (lines && ch === '\n') this.i++;
      else if (lines && ch === '#') {
        const end = this.text.indexOf('\n', this.i);
        const stop = end < 0 ? this.text.length : end;
        comments.push(this.text.slice(this.i + 1, stop).replace(/^ /, ''));
        this.i = stop;
      } else return comments;
    }
  }

  private expect(token: string): void {
    if (!this.text.startsWith(token, this.i)) this.fail(`expected ${JSON.stringify(token)}`);
    this.i += token.length;
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.i));
    if (!m) this.fail('expected an identifier');
    this.i += m[0].length;
    return m[0];
  }

  private string(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const ch = this.text[this.i];
      if (ch === undefined || ch === '\n') this.fail('unterminated string');
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch === '\\') {
        const next = this.text[this.i + 1];
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
        if (next !== undefined && next in simple) {
          out += simple[next];
          this.i += 2;
        } else if (next === 'u') {
          const hex = this.text.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 6;
        } else this.fail('unknown escape');
      } else if (this.text.startsWith('$${', this.i) || this.text.startsWith('%%{', this.i)) {
        out += `${ch}{`;
        this.i += 3;
      } else if (this.text.startsWith('${', this.i) || this.text.startsWith('%{', this.i)) {
        this.fail('template sequence (not in the subset)');
      } else {
        out += ch;
        this.i++;
      }
    }
  }

  private expression(): unknown {
    this.skip(false);
    const ch = this.text[this.i];
    if (ch === '"') return this.string();
    if (ch === '{') return this.object();
    if (ch === '[') return this.tuple();
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (number) {
      this.i += number[0].length;
      return Number(number[0]);
    }
    const word = this.identifier();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (word === 'jsonencode') {
      this.expect('(');
      const value = this.expression();
      this.skip(false);
      this.expect(')');
      return JSON.stringify(sortKeys(value));
    }
    return this.fail(`unknown word ${word}`);
  }

  private object(): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skip(true);
      if (this.text[this.i] === '}') {
        this.i++;
        return out;
      }
      const key = this.text[this.i] === '"' ? this.string() : this.identifier();
      this.skip(false);
      this.expect('=');
      out[key] = this.expression();
      this.skip(false);
      if (this.text[this.i] !== '\n' && this.text[this.i] !== '}') this.fail('expected a new line after an object item');
    }
  }

  private tuple(): unknown[] {
    this.expect('[');
    const out: unknown[] = [];
    for (;;) {
      this.skip(true);
      if (this.text[this.i] === ']') {
        this.i++;
        return out;
      }
      out.push(this.expression());
      this.skip(true);
      if (this.text[this.i] === ',') this.i++;
      else if (this.text[this.i] !== ']') this.fail('expected , or ]');
    }
  }

  private body(): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skip(true);
      if (this.text[this.i] === '}') {
        this.i++;
        return out;
      }
      const name = this.identifier();
      this.skip(false);
      if (this.text[this.i] === '{') {
        const blocks = (out[name] ??= []) as unknown[];
        if (!Array.isArray(blocks)) this.fail(`${name} is both an attribute and a block`);
        blocks.push(this.body());
      } else {
        this.expect('=');
        if (name in out) this.fail(`attribute ${name} set twice`);
        out[name] = this.expression();
      }
      this.skip(false);
      if (this.text[this.i] !== '\n') this.fail('expected a new line after an item');
    }
  }

  document(): HclResource[] {
    const resources: HclResource[] = [];
    for (;;) {
      const comments = this.skip(true);
      if (this.i >= this.text.length) return resources;
      const keyword = this.identifier();
      if (keyword !== 'resource') this.fail(`unexpected ${keyword}`);
      this.skip(false);
      const type = this.string();
      this.skip(false);
      const name = this.string();
      this.skip(false);
      resources.push({ type, name, comments, body: this.body() });
    }
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** The resources of an HCL text in the subset; throws on anything outside it. */
export function parseHclSubset(text: string): HclResource[] {
  return new Parser(text).document();
}
