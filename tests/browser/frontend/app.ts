// The test's harness over the README's snippets (build/app/src/*, extracted by build.mjs): each
// function runs one thing a frontend does and answers plain JSON for the Python test to check.
import { gql } from "@apollo/client";
import { apolloClient, errorCodes } from "./build/app/src/apollo";
import { jobsFeed } from "./build/app/src/apollo-feed";
import { persistedClient } from "./build/app/src/apollo-persisted";
import { JobNodeDocument, JobsPageDocument } from "./build/app/src/documents";
import { execute } from "./build/app/src/persisted";
import { relayEnvironment } from "./build/app/src/relay";
import { urqlClient } from "./build/app/src/urql";
import { PROBES } from "./probes";

type Headers = Record<string, string>;

async function apolloWalk(first: number) {
  const feed = jobsFeed(first);
  let jobs = await feed.firstPage();
  let pages = 1;
  while (jobs.pageInfo.hasNextPage) {
    jobs = await feed.loadMore();
    pages += 1;
  }
  feed.close();
  const cached = Object.keys(apolloClient.cache.extract()).filter((key) => key.startsWith("Job:"));
  return { ids: jobs.edges.map((edge) => edge.node.id), pages, cached };
}

async function apolloNode(id: string) {
  const { data } = await apolloClient.query({ query: JobNodeDocument, variables: { id }, fetchPolicy: "network-only" });
  return { node: data!.node, cacheId: apolloClient.cache.identify(data!.node as never) };
}

async function apolloErrors(extra: Record<string, { query: string; headers: Headers; uri?: string }>) {
  const codes: Record<string, string[]> = {};
  for (const [kind, probe] of Object.entries({ ...PROBES, ...extra })) {
    try {
      await apolloClient.query({
        query: gql(probe.query),
        fetchPolicy: "network-only",
        context: { headers: probe.headers, ...("uri" in probe && probe.uri ? { uri: probe.uri } : {}) },
      });
      codes[kind] = ["no error"];
    } catch (error) {
      codes[kind] = errorCodes(error);
    }
  }
  return codes;
}

async function urqlWalk(first: number) {
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const result = await urqlClient.query(JobsPageDocument, { first, after }).toPromise();
    if (result.error) throw new Error(result.error.message);
    pages += 1;
    const { pageInfo } = result.data!.jobs;
    if (!pageInfo.hasNextPage) break;
    after = pageInfo.endCursor!;
  }
  // What a list component reads: the cache's merged list, for the query without `after`.
  const merged = urqlClient.readQuery(JobsPageDocument, { first, after: null });
  return { ids: merged!.data!.jobs.edges.map((edge) => edge.node.id), pages };
}

async function urqlNode(id: string) {
  const result = await urqlClient.query(JobNodeDocument, { id }, { requestPolicy: "network-only" }).toPromise();
  return { node: result.data?.node ?? null, error: result.error?.message ?? null };
}

async function urqlErrors(extra: Record<string, { query: string; headers: Headers; uri?: string }>) {
  const codes: Record<string, string[]> = {};
  for (const [kind, probe] of Object.entries({ ...PROBES, ...extra })) {
    const result = await urqlClient
      .query(gql(probe.query), {}, {
        requestPolicy: "network-only",
        fetchOptions: { headers: probe.headers },
        ...("uri" in probe && probe.uri ? { url: probe.uri } : {}),
      })
      .toPromise();
    codes[kind] = result.error
      ? result.error.graphQLErrors.length
        ? result.error.graphQLErrors.map((e) => String(e.extensions?.code))
        : [`networkError: ${result.error.networkError?.message}`]
      : ["no error"];
  }
  return codes;
}

async function relayQuery(id: string) {
  const request = {
    id: null,
    cacheID: "JobNodeRelay",
    name: "JobNodeRelay",
    operationKind: "query" as const,
    text: "query JobNodeRelay($id: ID!) { node(id: $id) { __typename id ... on Job { name } } }",
    metadata: {},
  };
  const network = relayEnvironment.getNetwork();
  const response = await network.execute(request, { id }, {}).toPromise();
  return response;
}

async function persistedApollo(id: string, headers: Headers = {}) {
  const { data } = await persistedClient.query({
    query: JobNodeDocument,
    variables: { id },
    fetchPolicy: "network-only",
    context: { headers },
  });
  return data!.node;
}

async function persistedExecute(id: string, method: "GET" | "POST", headers: Headers = {}) {
  return execute(JobNodeDocument, { id }, { method, headers });
}

async function persistedWalk(first: number, method: "GET" | "POST", headers: Headers = {}) {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const result = await execute(JobsPageDocument, { first, after }, { method, headers });
    if (!result.data) return { ids, errors: result.errors };
    ids.push(...result.data.jobs.edges.map((edge) => edge.node.id));
    if (!result.data.jobs.pageInfo.hasNextPage) return { ids, errors: null };
    after = result.data.jobs.pageInfo.endCursor!;
  }
}

// A bare fetch with the tooling headers index.html adds, plus `headers`: its HTTP status, or the
// error a refused preflight gives (the control that shows the preflights are really checked).
async function rawPost(headers: Headers) {
  try {
    const response = await fetch((globalThis as any).GATEWAY_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ query: "query Raw { jobs(first: 1) { nodes { id } } }" }),
    });
    return response.status;
  } catch (error) {
    return String(error);
  }
}

function documentHashes() {
  const hash = (document: unknown) => (document as { __meta__: { hash: string } }).__meta__.hash;
  return { JobsPage: hash(JobsPageDocument), JobNode: hash(JobNodeDocument) };
}

Object.assign(globalThis, {
  frontend: {
    apolloWalk, apolloNode, apolloErrors, urqlWalk, urqlNode, urqlErrors, relayQuery,
    persistedApollo, persistedExecute, persistedWalk, documentHashes, rawPost,
  },
});
