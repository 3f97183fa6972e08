// Runs relay-compiler (the npm package's own linux-x64 binary) on src/ against the gateway's
// schema, writing the artifacts into a directory of the caller's, so that runs never share one.
//
//   node tests/e2e/clients/compile.mjs <output directory> [<schema file>]
//
// The schema is relay.config.json's (the repository's schema.graphql) unless another file is
// given. Writes <output directory>/relay.config.json (relay.config.json with absolute paths),
// <output directory>/__generated__/*.graphql.js (CommonJS) and a package.json saying so. Exits
// with the compiler's status, its output on stderr.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [outDir, schema] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node compile.mjs <output directory> [<schema file>]');
  process.exit(2);
}

const config = JSON.parse(readFileSync(join(here, 'relay.config.json'), 'utf8'));
const out = resolve(outDir);
mkdirSync(join(out, '__generated__'), { recursive: true });
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync(
  join(out, 'relay.config.json'),
  JSON.stringify(
    {
      ...config,
      src: resolve(here, config.src),
      schema: schema ? resolve(schema) : resolve(here, config.schema),
      artifactDirectory: './__generated__',
    },
    null,
    2,
  ) + '\n',
);

// The package's main export is the path of its binary for this platform (null for none). Run it
// from the output directory: the compiler resolves artifactDirectory against its working one.
const binary = createRequire(import.meta.url)('relay-compiler');
if (!binary) {
  console.error(`relay-compiler ships no binary for ${process.platform} (${process.arch})`);
  process.exit(1);
}
const run = spawnSync(binary, ['--noWatchman', '--output', 'quiet-with-errors', 'relay.config.json'], {
  cwd: out,
  encoding: 'utf8',
});
process.stderr.write(run.stdout ?? '');
process.stderr.write(run.stderr ?? '');
if (run.error) {
  console.error(`relay-compiler did not run: ${run.error}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
