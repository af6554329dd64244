/**
 * Loading the advisories in force: the file shipped with vpccni (advisories/advisories.json), or a newer one named
 * by `--advisories <file>` or VPCCNI_ADVISORIES, validated against schemas/advisories.schema.json.
 */
import { Ajv } from 'ajv';
import semver from 'semver';
import { UsageError } from '../errors.js';
import { assertNesting } from '../formats/nesting.js';
import { readRegularFile } from './input-file.js';
import { readPackageJson } from '../package-files.js';
import { SHIPPED_ADVISORIES, type Advisory, type AdvisoriesFile } from '../upgrade-planner/advisories.js';

const SCHEMA_FILE = 'schemas/advisories.schema.json';

/** The advisories in force and where they came from. */
export interface LoadedAdvisories {
  advisories: readonly Advisory[];
  /** The file read, or null for the shipped list. */
  file: string | null;
  updated: string | null;
}

/** The file `--advisories` or VPCCNI_ADVISORIES names, if any. */
export function advisoriesPath(option: string | undefined): string | undefined {
  const path = option ?? process.env.VPCCNI_ADVISORIES;
  return path && path.trim() !== '' ? path : undefined;
}

/** The largest advisories file read (the shipped one is a few KiB). */
export const MAX_ADVISORIES_BYTES = 4 * 1024 * 1024;

/** Reads and validates an advisories file; a UsageError (exit 2) in one sentence when it is not usable. */
export function loadAdvisoriesFile(path: string): LoadedAdvisories {
  const hint = 'check --advisories or VPCCNI_ADVISORIES';
  const text = readRegularFile(path, { maxBytes: MAX_ADVISORIES_BYTES, what: `The advisories file ${path}`, hint });
  assertNesting(text, `The advisories file ${path}`, hint);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The advisories file ${path} is not valid JSON (${(error as Error).message}); fix it or drop --advisories to use the shipped list.`);
  }
  const validate = new Ajv({ allErrors: true, strict: false }).compile(readPackageJson<object>(SCHEMA_FILE));
  if (!validate(data)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath || '/';
    throw new UsageError(`The advisories file ${path} does not match schemas/advisories.schema.json (at ${where}: ${first?.message ?? 'invalid'}); fix it or drop --advisories to use the shipped list.`);
  }
  const file = data as AdvisoriesFile;
  const ids = new Set<string>();
  for (const advisory of file.advisories) {
    if (ids.has(advisory.id)) throw new UsageError(`The advisories file ${path} has the id "${advisory.id}" twice; ids must be unique.`);
    ids.add(advisory.id);
    const bad = advisory.versions.find((r) => semver.validRange(r) === null);
    if (bad !== undefined) throw new UsageError(`The advisories file ${path} gives advisory "${advisory.id}" the version range "${bad}", which is not a semver range (e.g. "1.22.0 - 1.22.1" or ">=1.23.0").`);
  }
  return { advisories: file.advisories, file: path, updated: file.updated ?? null };
}

/** The advisories in force for a run: the named file, else the shipped list. */
export function loadAdvisories(option: string | undefined): LoadedAdvisories {
  const path = advisoriesPath(option);
  if (path) return loadAdvisoriesFile(path);
  return { advisories: SHIPPED_ADVISORIES, file: null, updated: null };
}
