// Loads records through Apollo Client's InMemoryCache, one query per record, against a running
// gateway, then reports the normalized cache and what each query reads back from it.
//
//   node tests/e2e/clients/apollo.mjs <graphql endpoint URL> <records JSON> --cache=<mode>
//
// <records JSON> is a list of [typename, id] (Job, Candidate or User; the id as the lookup
// takes it, e.g. a Kombo id shared by records of several types). <mode> is how the cache keys
// objects: `default` (InMemoryCache's own, `<__typename>:<id>`), `id` (Relay-style: by `id` alone,
// `dataIdFromObject: o => o.id`), or `komboId` (the control: by Kombo's id,
// `dataIdFromObject: o => o.komboId`). Prints on stdout a JSON object
//   {"results": [{"typename", "id", "network": data sent by the gateway, "query": data the query
//     returned, "cached": the query read back from the cache afterwards (null if it cannot be)}],
//    "extract": cache.extract(), "warnings": [..]}
// and exits 0 whatever the gateway answered (tests/e2e/test_normalized_clients.py judges), 2 on
// bad usage, 1 if a run throws.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const MODES = {
  default: () => new InMemoryCache(),
  id: () => new InMemoryCache({ dataIdFromObject: (object) => object.id }),
  komboId: () => new InMemoryCache({ dataIdFromObject: (object) => object.komboId }),
};

const DOCUMENTS = {
  Job: gql`
    query ClientsJob($id: ID!) {
      job(id: $id) {
        id
        komboId
        name
      }
    }
  `,
  Candidate: gql`
    query ClientsCandidate($id: ID!) {
      candidate(id: $id) {
        id
        komboId
        firstName
        lastName
      }
    }
  `,
  User: gql`
    query ClientsUser($id: ID!) {
      user(id: $id) {
        id
        komboId
        firstName
        lastName
        email
      }
    }
  `,
};

const [url, recordsJson, flag] = process.argv.slice(2);
const mode = flag?.startsWith('--cache=') ? flag.slice('--cache='.length) : undefined;
if (!url || !recordsJson || !(mode in MODES)) {
  console.error('usage: node apollo.mjs <graphql endpoint URL> <records JSON> --cache=default|id|komboId');
  process.exit(2);
}
const records = JSON.parse(recordsJson);

// Apollo's own warnings (e.g. about data it drops) go to the report; stdout stays JSON.
const warnings = [];
const consoleError = console.error;
for (const level of ['error', 'warn']) {
  console[level] = (...args) => warnings.push(args.map(String).join(' '));
}

async function run() {
  let sent = null;
  const recordingFetch = async (input, init) => {
    const response = await fetch(input, init);
    sent = await response.clone().json();
    return response;
  };
  const cache = MODES[mode]();
  const client = new ApolloClient({ link: new HttpLink({ uri: url, fetch: recordingFetch }), cache });

  const results = [];
  for (const [typename, id] of records) {
    const query = DOCUMENTS[typename];
    const result = await client.query({ query, variables: { id }, fetchPolicy: 'network-only' });
    results.push({ typename, id, network: sent?.data ?? null, query: result.data ?? null, error: result.error ? String(result.error) : null });
  }
  // Read back only once every record is in: a later write under the same key shows here.
  for (const result of results) {
    result.cached = cache.readQuery({ query: DOCUMENTS[result.typename], variables: { id: result.id } });
  }
  return { results, extract: cache.extract() };
}

try {
  const report = await run();
  process.stdout.write(JSON.stringify({ ...report, warnings }, null, 2) + '\n');
} catch (error) {
  console.error = consoleError;
  console.error(`the Apollo Client run failed against ${url}: ${error?.stack ?? error}`);
  process.exit(1);
}
