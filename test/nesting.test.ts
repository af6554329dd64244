/**
 * The nesting bound every parsed input passes before a parser or walker recurses (issue 19): deep texts are
 * caught in every form JSON and YAML allow, and no real input (every fixture, the shipped advisories, the
 * schemas) and no value up to 45 levels, written as JSON or YAML, is caught.
 */
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { MAX_NESTING, nestingTooDeep } from '../src/formats/nesting.js';

const deep = MAX_NESTING + 1;

describe('nestingTooDeep', () => {
  it.each([
    ['JSON objects', `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`],
    ['JSON arrays', `${'['.repeat(deep)}${']'.repeat(deep)}`],
    ['YAML flow mappings', `a: ${'{b: '.repeat(deep)}1${'}'.repeat(deep)}`],
    ['YAML compact sequences on one line', `${'- '.repeat(deep)}x`],
    ['YAML block mappings by indentation', Array.from({ length: deep + 1 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
    ['YAML flow across lines', `a:\n${Array.from({ length: deep }, () => '  [').join('\n')}`],
  ])('catches %s', (_name, text) => {
    expect(nestingTooDeep(text)).toMatchObject({ max: MAX_NESTING });
  });

  it.each([
    ['brackets in double quotes', `a: "${'['.repeat(500)}"`],
    ['brackets in single quotes with an escaped quote', `a: '${'{'.repeat(500)}''${'{'.repeat(500)}'`],
    ['brackets in a comment', `a: 1 # ${'['.repeat(500)}`],
    ['brackets inside a plain scalar', `a: x${'['.repeat(500)}`],
    ['a block scalar of brackets and dashes', `script: |\n  ${'['.repeat(500)}\n  ${'- '.repeat(500)}\nnext: 1`],
    ['a JSON string value holding deep JSON', JSON.stringify({ a: '{"a":'.repeat(500) })],
  ])('ignores %s', (_name, text) => {
    expect(nestingTooDeep(text)).toBeNull();
  });

  it('says where the text first goes too deep', () => {
    expect(nestingTooDeep(`x: 1\ny: ${'['.repeat(deep)}`)).toEqual({ line: 2, column: 4 + MAX_NESTING - 1, max: MAX_NESTING });
  });

  it('catches no real input: every fixture, schema and shipped advisories file', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ya?ml|json)$/.test(name)) files.push(path);
      }
    };
    ['fixtures', 'schemas', 'advisories'].forEach(walk);
    expect(files.length).toBeGreaterThan(30);
    const caught = files.filter((f) => nestingTooDeep(readFileSync(f, 'utf8')) !== null);
    expect(caught).toEqual([]);
  });

  it('catches no value up to 45 levels deep, written as JSON or as YAML', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    const key = fc.string({ minLength: 1, maxLength: 8 });
    // One branch goes the whole depth, its siblings are leaves: a path of levels folded into a value.
    const level = fc.record({ array: fc.boolean(), key, siblings: fc.array(leaf, { maxLength: 2 }) });
    const nested = fc
      .tuple(fc.array(level, { minLength: 1, maxLength: 45 }), leaf)
      .map(([levels, bottom]) =>
        levels.reduceRight<unknown>(
          (inner, l) => (l.array ? [inner, ...l.siblings] : { ...Object.fromEntries(l.siblings.map((s, i) => [`${l.key}${i}`, s])), [l.key]: inner }),
          bottom,
        ),
      );
    fc.assert(
      fc.property(nested, (value) => {
        expect(nestingTooDeep(JSON.stringify(value))).toBeNull();
        expect(nestingTooDeep(JSON.stringify(value, null, 2))).toBeNull();
        expect(nestingTooDeep(toYaml(value))).toBeNull();
      }),
      { numRuns: 60 },
    );
  });
});
