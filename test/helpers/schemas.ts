/** Validates our JSON outputs against the schemas in schemas/. */
import { Ajv } from 'ajv';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

const ajv = new Ajv({ allErrors: true, strict: false });
for (const file of readdirSync(join(ROOT, 'schemas'))) {
  if (file.endsWith('.schema.json') && file !== 'scenario.schema.json') {
    ajv.addSchema(JSON.parse(readFileSync(join(ROOT, 'schemas', file), 'utf8')) as object);
  }
}

/** The schema errors of `document` against schemas/<name>.schema.json (empty when valid). */
export function schemaErrors(name: string, document: unknown): string[] {
  const validate = ajv.getSchema(`https://vpccni.dev/schemas/${name}.schema.json`);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
