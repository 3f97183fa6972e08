// Copies GraphiQL's browser builds (from node_modules, installed by `npm ci` from the lock file)
// and our own page files into static/, the directory the gateway serves at /graphiql/static.
// One list of files, used by both `make assets` and the Dockerfile's node stage.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "static");

// [source relative to this directory, name inside static/]
const files = [
  // Third-party builds that load in a browser without a bundler (UMD globals React, ReactDOM, GraphiQL).
  ["node_modules/react/umd/react.production.min.js", "react.production.min.js"],
  ["node_modules/react-dom/umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["node_modules/graphiql/graphiql.min.js", "graphiql.min.js"],
  ["node_modules/graphiql/graphiql.min.css", "graphiql.min.css"],
  ["node_modules/react/LICENSE", "licenses/react.txt"],
  ["node_modules/react-dom/LICENSE", "licenses/react-dom.txt"],
  ["node_modules/graphiql/LICENSE", "licenses/graphiql.txt"],
  // Our own files, committed unminified.
  ["init.js", "init.js"],
  ["page.css", "page.css"],
];

const missing = files.filter(([source]) => !existsSync(join(here, source)));
if (missing.length > 0) {
  console.error(`graphiql build: missing ${missing.map(([s]) => s).join(", ")}; run \`npm ci\` first`);
  process.exit(1);
}

// Start from an empty directory so a file dropped from the list does not linger.
rmSync(staticDir, { recursive: true, force: true });
for (const [source, target] of files) {
  const destination = join(staticDir, target);
  mkdirSync(dirname(destination), { recursive: true });
  cpSync(join(here, source), destination);
}
console.log(`graphiql build: ${files.length} files in ${staticDir}`);
