// The documents relay-compiler compiles (compile.mjs); never run: relay.mjs loads the artifacts
// the compiler generates from them. Each @refetchable fragment makes the compiler generate a
// refetch query `node(id: $id) { ...fragment }`, which it can do only if the schema has the Node
// interface with `id: ID!`, the type implements it, and `Query.node(id: ID!): Node` exists.
import { graphql } from 'relay-runtime';

graphql`
  fragment Clients_job on Job @refetchable(queryName: "ClientsJobRefetchQuery") {
    __typename
    id
    komboId
    name
  }
`;

graphql`
  fragment Clients_candidate on Candidate @refetchable(queryName: "ClientsCandidateRefetchQuery") {
    __typename
    id
    komboId
    firstName
    lastName
  }
`;

graphql`
  fragment Clients_user on User @refetchable(queryName: "ClientsUserRefetchQuery") {
    __typename
    id
    komboId
    firstName
    lastName
    email
  }
`;

// Three pairs of records, each pair sharing one Kombo id (the caller picks them from the
// sandbox): a Job and a Candidate, a User and a Candidate, a Job and a User.
graphql`
  query ClientsQuery($jobAndCandidate: ID!, $userAndCandidate: ID!, $jobAndUser: ID!) {
    jcJob: job(id: $jobAndCandidate) {
      ...Clients_job
    }
    jcCandidate: candidate(id: $jobAndCandidate) {
      ...Clients_candidate
    }
    ucUser: user(id: $userAndCandidate) {
      ...Clients_user
    }
    ucCandidate: candidate(id: $userAndCandidate) {
      ...Clients_candidate
    }
    juJob: job(id: $jobAndUser) {
      ...Clients_job
    }
    juUser: user(id: $jobAndUser) {
      ...Clients_user
    }
  }
`;
