// Apollo Client 3 (bundled with `@apollo/client` aliased to the npm alias `apollo-client-3`): the
// README's Apollo 3 snippet, its cache config, and how it surfaces each error kind.
import { gql } from "@apollo/client/core";
import { apolloClient3, errorCodes3 } from "./build/app/src/apollo3";
import { PROBES } from "./probes";

type Headers = Record<string, string>;

async function apollo3Node(id: string) {
  const { data } = await apolloClient3.query({
    query: gql("query JobNode3($id: ID!) { node(id: $id) { __typename id ... on Job { name } } }"),
    variables: { id },
    fetchPolicy: "network-only",
  });
  return data.node;
}

async function apollo3Errors(extra: Record<string, { query: string; headers: Headers; uri?: string }>) {
  const codes: Record<string, string[]> = {};
  for (const [kind, probe] of Object.entries({ ...PROBES, ...extra })) {
    try {
      await apolloClient3.query({
        query: gql(probe.query),
        fetchPolicy: "network-only",
        context: { headers: probe.headers, ...(probe.uri ? { uri: probe.uri } : {}) },
      });
      codes[kind] = ["no error"];
    } catch (error) {
      codes[kind] = errorCodes3(error);
    }
  }
  return codes;
}

Object.assign(globalThis, { frontend3: { apollo3Node, apollo3Errors } });
