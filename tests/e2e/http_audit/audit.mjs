// Runs npm graphql-http's GraphQL-over-HTTP server audit against a running endpoint.
//
//   node tests/e2e/http_audit/audit.mjs http://127.0.0.1:8000/graphql
//
// Prints a JSON array of {id, name, status, reason} (status: ok, notice, warn or error) on
// stdout and exits 0 whatever the results: judging them is the caller's job
// (tests/e2e/test_graphql_over_http.py). Exits 2 on bad usage and 1 if the audit cannot run.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}

try {
  const results = await auditServer({ url });
  const report = results.map(({ id, name, status, reason }) => ({
    id,
    name,
    status,
    reason: reason ?? null,
  }));
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
} catch (error) {
  // auditServer throws only on fatal problems, e.g. the server is unreachable.
  console.error(`graphql-http audit could not run against ${url}: ${error?.stack ?? error}`);
  process.exit(1);
}
