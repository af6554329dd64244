/**
 * The configuration schemas (DescribeAddonConfiguration) the sandbox serves, per add-on version, read from
 * fixtures/addon-configuration/index.json: real schemas where one was published, otherwise derived from the
 * release's Helm chart and manifest (how each was obtained is in fixtures/README.md).
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html
 */
import semver from 'semver';
import { readPackageText } from '../package-files.js';

/** One row of index.json. */
export interface SchemaIndexEntry {
  /** Semver range over the upstream release (`1.14.1` of `v1.14.1-eksbuild.1`). */
  versions: string;
  /** Exact add-on versions (`v1.12.0-eksbuild.1`) served by this row before any range: a real response of that build. */
  addonVersions?: string[];
  /** The parsed schema (`*.schema.json`). */
  file: string;
  /** The full describe-addon-configuration response, where a real one was captured. */
  response?: string;
  source: string;
  basis: string;
}

let index: SchemaIndexEntry[] | undefined;
const texts = new Map<string, string>();

function readFixture(file: string): string {
  return readPackageText(`fixtures/addon-configuration/${file}`);
}

/** The rows of fixtures/addon-configuration/index.json, in order. */
export function schemaIndex(): readonly SchemaIndexEntry[] {
  index ??= (JSON.parse(readFixture('index.json')) as { schemas: SchemaIndexEntry[] }).schemas;
  return index;
}

/** The upstream release of an add-on version (`v1.14.1-eksbuild.1` → `1.14.1`), or undefined. */
function releaseOf(version: string): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+)(?:-eksbuild\.\d+)?$/.exec(version.trim());
  return match ? match[1] : undefined;
}

/** The index row serving a version; versions outside every range get the nearest row (oldest or newest). */
export function schemaEntryFor(version: string): SchemaIndexEntry {
  const rows = schemaIndex();
  const exact = rows.find((r) => r.addonVersions?.includes(version.trim()));
  if (exact) return exact;
  const release = releaseOf(version);
  if (release === undefined) return rows[0]!;
  const row = rows.find((r) => !r.addonVersions && semver.satisfies(release, r.versions));
  if (row) return row;
  return semver.ltr(release, rows[0]!.versions) ? rows[0]! : rows[rows.length - 1]!;
}

/**
 * The configuration schema (a string, as EKS returns it) for a version: the real response's string where
 * one was captured, else the schema file re-serialised compactly (key order kept).
 */
export function configurationSchemaFor(version: string): string {
  const row = schemaEntryFor(version);
  const key = row.response ?? row.file;
  let text = texts.get(key);
  if (text === undefined) {
    text = row.response
      ? (JSON.parse(readFixture(row.response)) as { configurationSchema: string }).configurationSchema
      : JSON.stringify(JSON.parse(readFixture(row.file)));
    texts.set(key, text);
  }
  return text;
}
