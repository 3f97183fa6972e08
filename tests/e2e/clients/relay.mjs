// Runs the artifacts relay-compiler generated (compile.mjs) through relay-runtime against a
// running gateway: one Environment (Network over fetch, RecordSource, Store) executes
// ClientsQuery, then, for every record it loaded, the refetch query of that record's
// @refetchable fragment (`node(id: $id)`, taken from the fragment's own refetch metadata), in the
// same Environment.
//
//   node tests/e2e/clients/relay.mjs <graphql endpoint URL> <artifact directory> <variables JSON>
//     [--data-id=komboId]
//
// `--data-id=komboId` is the control: the Store keys records by `komboId` (Environment's
// getDataID) instead of Relay's default, `id`. Prints on stdout a JSON object
//   {"fragments": {alias: data}, "records": {dataID: record},       after ClientsQuery
//    "refetches": [{"alias", "query", "variables", "response", "data"}],
//    "recordsAfterRefetches": {dataID: record}, "exchanges": [{query, variables, status, response}],
//    "warnings": [..]}
// where `fragments` and each refetch's `data` are the fragment's data read from the Store, and
// `response` is the gateway's JSON. Exits 0 whatever the gateway answered (judging is the
// caller's job: tests/e2e/test_normalized_clients.py), 2 on bad usage, 1 if a run throws.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

import {
  Environment,
  Network,
  RecordSource,
  Store,
  createOperationDescriptor,
  fetchQuery,
  getSelector,
} from 'relay-runtime';

const [url, artifactDir, variablesJson, flag] = process.argv.slice(2);
if (!url || !artifactDir || !variablesJson || (flag !== undefined && flag !== '--data-id=komboId')) {
  console.error(
    'usage: node relay.mjs <graphql endpoint URL> <artifact directory> <variables JSON> [--data-id=komboId]',
  );
  process.exit(2);
}
const variables = JSON.parse(variablesJson);

// The generated artifacts are CommonJS (relay.config.json: eagerEsModules false).
const load = createRequire(join(resolve(artifactDir), '__generated__', 'index.js'));
const ClientsQuery = load('./ClientsQuery.graphql');
const FRAGMENTS = {
  Job: load('./Clients_job.graphql'),
  Candidate: load('./Clients_candidate.graphql'),
  User: load('./Clients_user.graphql'),
};

// Relay logs its own warnings (e.g. a record seen with two typenames) through console.error in
// development builds: keep them for the report, and stdout clean for the JSON.
const warnings = [];
const consoleError = console.error;
console.error = (...args) => warnings.push(args.map(String).join(' '));
const consoleWarn = console.warn;
console.warn = (...args) => warnings.push(args.map(String).join(' '));

const exchanges = [];
async function fetchGraphQL(params, operationVariables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: params.text, variables: operationVariables, operationName: params.name }),
  });
  const json = await response.json();
  exchanges.push({ query: params.name, variables: operationVariables, status: response.status, response: json });
  return json;
}

const environment = new Environment({
  network: Network.create(fetchGraphQL),
  store: new Store(new RecordSource()),
  ...(flag ? { getDataID: (fieldValue) => fieldValue.komboId } : {}),
});

const records = () => JSON.parse(JSON.stringify(environment.getStore().getSource().toJSON()));

// Reads a fragment's data from the Store, through the fragment reference a query's data holds.
function readFragment(typename, reference) {
  if (reference === null || reference === undefined) return null;
  return environment.lookup(getSelector(FRAGMENTS[typename], reference)).data;
}

async function run() {
  // Retained, so that the Store's garbage collection never drops what the report reads.
  const operation = createOperationDescriptor(ClientsQuery, variables);
  environment.retain(operation);
  await fetchQuery(environment, ClientsQuery, variables, { fetchPolicy: 'network-only' }).toPromise();
  const root = environment.lookup(operation.fragment).data;

  const fragments = {};
  for (const [alias, reference] of Object.entries(root)) {
    const typename = reference === null ? null : readTypename(reference);
    fragments[alias] = typename === null ? null : readFragment(typename, reference);
  }
  const afterQuery = records();

  const refetches = [];
  for (const [alias, data] of Object.entries(fragments)) {
    if (data === null) continue;
    const { refetch } = FRAGMENTS[data.__typename].metadata;
    const RefetchQuery = refetch.operation;
    const refetchVariables = { [refetch.identifierInfo.identifierQueryVariableName]: data[refetch.identifierInfo.identifierField] };
    const refetchOperation = createOperationDescriptor(RefetchQuery, refetchVariables);
    environment.retain(refetchOperation);
    await fetchQuery(environment, RefetchQuery, refetchVariables, { fetchPolicy: 'network-only' }).toPromise();
    const node = environment.lookup(refetchOperation.fragment).data.node;
    refetches.push({
      alias,
      query: RefetchQuery.params.name,
      text: RefetchQuery.params.text,
      variables: refetchVariables,
      response: exchanges.at(-1).response,
      data: readFragment(data.__typename, node),
    });
  }

  return { fragments, records: afterQuery, refetches, recordsAfterRefetches: records(), exchanges };
}

// A query's data holds, per root field, a fragment reference: the record's id and its spreads.
function readTypename(reference) {
  for (const name of Object.keys(reference.__fragments ?? {})) {
    for (const [typename, fragment] of Object.entries(FRAGMENTS)) {
      if (fragment.name === name) return typename;
    }
  }
  throw new Error(`no known fragment in ${JSON.stringify(reference)}`);
}

try {
  const report = await run();
  process.stdout.write(JSON.stringify({ ...report, warnings }, null, 2) + '\n');
} catch (error) {
  console.error = consoleError;
  console.warn = consoleWarn;
  console.error(`the Relay run failed against ${url}: ${error?.stack ?? error}`);
  process.exit(1);
}
