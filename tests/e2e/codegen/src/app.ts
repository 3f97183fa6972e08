// A frontend's use of the generated types. `tsc --noEmit` passes only when DateTime is typed as
// `string` (what the gateway answers: 2023-06-26T14:30:00.000Z, toISOString's form) and JSON as
// `unknown`: not `any`, not `unknown`, not `Date` (tests/e2e/test_codegen.py runs those too).
import { useFragment, type DocumentType } from "./gql";
import { InterviewRefetchQuery, JobCardFragment, JobsPageQuery } from "./documents";

type JobsPage = DocumentType<typeof JobsPageQuery>;
type JobNode = JobsPage["jobs"]["edges"][number]["node"];
type Refetched = NonNullable<DocumentType<typeof InterviewRefetchQuery>["node"]>;
type Interview = Extract<Refetched, { __typename: "Interview" }>;

// Exactly equal, so that `any` (assignable both ways) fails too.
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectExactly<T extends true>(): void {}

expectExactly<Equals<Interview["startingAt"], string | null>>();
expectExactly<Equals<Interview["changedAt"], string>>();
expectExactly<Equals<JobNode["closedAt"], string | null>>();
expectExactly<Equals<JobNode["remoteData"], unknown>>();
expectExactly<Equals<Interview["remoteData"], unknown>>();

/** The gateway's answers are already toISOString's form: no reformatting, compare as strings. */
export function isCanonical(at: string): boolean {
  return new Date(at).toISOString() === at;
}

/** An interview's dates: `startingAt` is a string (or null), usable as one without a cast. */
export function describe(interview: Interview): string {
  const starts: string | null = interview.startingAt;
  const changed: string = interview.changedAt;
  const when = starts === null ? "unscheduled" : new Date(starts).toISOString();
  if (starts !== null && !isCanonical(starts)) {
    throw new Error(`not toISOString's form: ${starts}`);
  }
  return `${interview.title ?? "(untitled)"} ${when}, changed ${changed.slice(0, 10)}`;
}

/** The most recent change on a page: ISO strings in UTC with milliseconds sort as instants. */
export function latestChange(page: JobsPage): string | null {
  let latest: string | null = null;
  for (const edge of page.jobs.edges) {
    const job = useFragment(JobCardFragment, edge.node);
    const changed: string = job.changedAt;
    if (latest === null || changed > latest) latest = changed;
  }
  return latest;
}

/** The next page's variables: a DateTime variable takes the same strings back. */
export function nextPage(page: JobsPage, since: string): { after: string | null; updatedAfter: string } {
  return { after: page.jobs.pageInfo.endCursor, updatedAfter: since };
}

/** remoteData is JSON: `unknown` until narrowed, never silently `any`. */
export function remoteKeys(job: JobNode): string[] {
  const data = job.remoteData;
  return typeof data === "object" && data !== null ? Object.keys(data) : [];
}
