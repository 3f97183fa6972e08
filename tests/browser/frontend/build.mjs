// Builds the browser app of tests/browser/test_frontend_apps.py from the README's own snippets.
//
// 1. Every fenced block of README.md whose info string is `ts title="<path>"` is written to
//    build/app/<path> as it is, except that the placeholder URL
//    "https://gateway.example.com/graphql" becomes `globalThis.GATEWAY_URL` (set by index.html from
//    its `?gateway=` parameter, so one build serves every gateway a test starts).
// 2. The repository's schema.graphql is copied beside them, and GraphQL Code Generator runs the
//    README's codegen.ts there (client preset, persisted documents).
// 3. esbuild bundles app.ts (this directory: the test's harness over those snippets) into
//    build/app/app.js with Apollo Client 4, and app3.ts into build/app/app3.js with Apollo Client 3
//    (npm alias `apollo-client-3`) standing in for `@apollo/client`.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const out = join(here, "build", "app");
const PLACEHOLDER = '"https://gateway.example.com/graphql"';

export function snippets(markdown) {
  const found = [];
  const fence = /^```ts title="([^"]+)"\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) found.push({ path: match[1], text: match[2] });
  return found;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const blocks = snippets(readFileSync(join(root, "README.md"), "utf8"));
if (blocks.length === 0) throw new Error("no ```ts title=\"…\" block in README.md");
for (const { path, text } of blocks) {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), text.replaceAll(PLACEHOLDER, "(globalThis as any).GATEWAY_URL"));
}
copyFileSync(join(root, "schema.graphql"), join(out, "schema.graphql"));
execFileSync(join(here, "node_modules", ".bin", "graphql-codegen"), ["--config", "codegen.ts", "--silent"], {
  cwd: out,
  stdio: "inherit",
});

const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome120",
  logLevel: "warning",
  nodePaths: [join(here, "node_modules")],
  define: { "process.env.NODE_ENV": '"production"', __DEV__: "false" },
};
await esbuild.build({ ...common, entryPoints: [join(here, "app.ts")], outfile: join(out, "app.js") });
await esbuild.build({
  ...common,
  entryPoints: [join(here, "app3.ts")],
  outfile: join(out, "app3.js"),
  alias: { "@apollo/client": "apollo-client-3" },
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));
writeFileSync(join(out, "snippets.json"), JSON.stringify(blocks.map((b) => b.path)));
