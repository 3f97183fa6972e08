// Runs one GraphQL query through Apollo Client's real persisted-queries link against a running
// gateway, twice, each time with a fresh client (as two page loads would), and reports every
// HTTP exchange the link made.
//
//   node tests/e2e/apq/apq.mjs <graphql endpoint URL> <query document> <variables JSON> [--get]
//
// `--get` sets the link's `useGETForHashedQueries`. The hash is node's own SHA-256 of the
// printed document, as `crypto-hash` would compute it. Prints on stdout a JSON object
//   {"runs": [{"data", "errors", "exchanges": [{method, url, body, status, contentType,
//     cacheControl, response}]}]}
// and exits 0 whatever the gateway answered: judging it is the caller's job
// (tests/e2e/test_persisted_queries.py). Exits 2 on bad usage and 1 if a run throws.
import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [url, document, variablesJson, flag] = process.argv.slice(2);
if (!url || !document || !variablesJson || (flag !== undefined && flag !== '--get')) {
  console.error('usage: node apq.mjs <graphql endpoint URL> <query document> <variables JSON> [--get]');
  process.exit(2);
}
const variables = JSON.parse(variablesJson);

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

async function run() {
  const exchanges = [];
  // Records what went over the wire, then hands the response back untouched.
  const recordingFetch = async (input, init = {}) => {
    const response = await fetch(input, init);
    const text = await response.clone().text();
    exchanges.push({
      method: init.method ?? 'GET',
      url: String(input),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : null,
      status: response.status,
      contentType: response.headers.get('content-type'),
      cacheControl: response.headers.get('cache-control'),
      response: JSON.parse(text),
    });
    return response;
  };
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: flag === '--get' }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const result = await client.query({ query: gql(document), variables, fetchPolicy: 'network-only' });
  return { data: result.data ?? null, errors: result.error ? String(result.error) : null, exchanges };
}

try {
  const runs = [await run(), await run()];
  process.stdout.write(JSON.stringify({ runs }, null, 2) + '\n');
} catch (error) {
  console.error(`the Apollo Client run failed against ${url}: ${error?.stack ?? error}`);
  process.exit(1);
}
