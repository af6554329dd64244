/**
 * The sandbox is an independent witness (issue 21): nothing in src/sandbox/ imports the product's deciders
 * (src/decide, src/upgrade-planner, src/gather, src/act, src/render), and ESLint refuses a file that tries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SANDBOX = join(ROOT, 'src/sandbox');
const FORBIDDEN = ['decide', 'upgrade-planner', 'gather', 'act', 'render'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.ts$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('the sandbox imports nothing of the product', () => {
  it('every import of src/sandbox/ resolves outside the deciders', () => {
    const offending: string[] = [];
    for (const file of sourceFiles(SANDBOX)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = match[1] as string;
        if (!spec.startsWith('.')) continue;
        const top = relative(join(ROOT, 'src'), resolve(dirname(file), spec)).split(/[\\/]/)[0] as string;
        if (FORBIDDEN.includes(top)) offending.push(`${relative(ROOT, file)}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("ESLint's no-restricted-imports rejects a sandbox file that imports a decider", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText("import { sameValue } from '../decide/json.js';\nexport const same = sameValue;\n", {
      filePath: join(SANDBOX, 'boundary-probe.ts'),
    });
    expect(result?.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [allowed] = await eslint.lintText("import { canonicalJson } from '../formats/json.js';\nexport const text = canonicalJson;\n", {
      filePath: join(SANDBOX, 'boundary-probe.ts'),
    });
    expect(allowed?.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
