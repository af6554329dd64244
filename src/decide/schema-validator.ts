/**
 * One Ajv set-up for the add-on's configuration schemas: EKS publishes draft-06 documents whose env values
 * are strings with the custom formats `boolean` and `integer` (see fixtures/addon-configuration/).
 */
import type { Ajv, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `"true"`/`"false"` as EKS accepts them for `"format": "boolean"` (case-insensitive). */
export const BOOLEAN_STRING = /^(true|false)$/i;
/** A whole number, optionally signed, for `"format": "integer"`. */
export const INTEGER_STRING = /^[+-]?\d+$/;

/** A fresh Ajv that knows draft-06 and the schema's custom formats, reporting every error. */
export function createAddonSchemaAjv(): Ajv {
  // Required on first use: a run that validates nothing (status, the sandbox's start-up) never loads Ajv.
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({ allErrors: true, strict: false, validateFormats: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  ajv.addFormat('boolean', BOOLEAN_STRING);
  ajv.addFormat('integer', INTEGER_STRING);
  return ajv;
}

const cache = new Map<string, ValidateFunction>();

/** Compiles (once per schema text) a configuration schema given as the string EKS returns. */
export function compileAddonSchema(schemaText: string): ValidateFunction {
  let validate = cache.get(schemaText);
  if (!validate) {
    validate = createAddonSchemaAjv().compile(JSON.parse(schemaText) as object);
    cache.set(schemaText, validate);
  }
  return validate;
}
