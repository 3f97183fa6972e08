// The documents a frontend writes: a jobs page with dates, a fragment, a node refetch.
import { graphql } from "./gql";

export const JobCardFragment = graphql(`
  fragment JobCard on Job {
    id
    name
    status
    openedAt
    changedAt
  }
`);

export const JobsPageQuery = graphql(`
  query JobsPage($after: String, $updatedAfter: DateTime) {
    jobs(first: 50, after: $after, filter: { updatedAfter: $updatedAfter }) {
      edges {
        cursor
        node {
          id
          ...JobCard
          closedAt
          remoteCreatedAt
          remoteData
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const InterviewRefetchQuery = graphql(`
  query InterviewRefetch($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Interview {
        title
        startingAt
        endingAt
        changedAt
        remoteDeletedAt
        remoteData
      }
    }
  }
`);
