// The error probes both harnesses send: one document per error kind, with the headers it needs.
export const PROBES = {
  BAD_USER_INPUT: { query: "query BadInput { jobs(first: 0) { nodes { id } } }", headers: {} },
  QUERY_TOO_COMPLEX: {
    query: "query TooComplex { jobs(first: 250) { nodes { applications(first: 250) { nodes { id } } } } }",
    headers: {},
  },
  // The sandbox's Lever integration has no interviews: Kombo's own error, passed through.
  UPSTREAM: {
    query: "query Upstream { interviews(first: 2) { nodes { id } } }",
    headers: { "X-Integration-Id": "lever:no-interviews" },
  },
} as const;
