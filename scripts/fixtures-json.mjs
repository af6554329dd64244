// Writes dist/fixtures-json/<path>.json for the YAML fixtures the sandbox and the CLI read at run time
// (fixtures/manifests, fixtures/scenarios): the documents as a JSON array, read by src/formats/yaml-files.ts
// instead of parsing the YAML in every process. Run by `npm run build`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
let count = 0;
for (const dir of ['manifests', 'scenarios']) {
  mkdirSync(`${root}dist/fixtures-json/${dir}`, { recursive: true });
  for (const file of readdirSync(`${root}fixtures/${dir}`)) {
    if (!/\.ya?ml$/.test(file)) continue;
    const docs = parseAllDocuments(readFileSync(`${root}fixtures/${dir}/${file}`, 'utf8'))
      .map((doc) => doc.toJS())
      .filter((value) => value !== null && value !== undefined);
    writeFileSync(`${root}dist/fixtures-json/${dir}/${file}.json`, JSON.stringify(docs));
    count++;
  }
}
console.log(`fixtures-json: ${count} files`);
