// Subscribes to a running gateway with npm's graphql-ws (WebSocket, graphql-transport-ws) or
// graphql-sse (Server-Sent Events, distinct connections mode) and prints every message it gets
// as one JSON line on stdout, for tests/e2e/test_live.py to read:
//   {"event":"connected"}                      the connection is acknowledged (ws) / open (sse)
//   {"event":"next","sub":0,"payload":{...}}   a result of subscription 0
//   {"event":"error","sub":0,"error":...}      subscription 0 failed (its errors, or the close)
//   {"event":"complete","sub":0}               subscription 0 completed
//   {"event":"closed","code":1000,"reason":""} the WebSocket closed
//
// Options (JSON values): --transport ws|sse, --url http://127.0.0.1:PORT, --query DOCUMENT,
// --variables {...}, --params {...} (ws: connection_init payload; sse: request headers),
// --count N (subscriptions of the same document on one client), --connect-only (ws: connect,
// subscribe to nothing, stay until the server closes).
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

function options(argv) {
  const out = { transport: "ws", count: "1", variables: "{}", params: "{}" };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (name === "connect-only") out.connectOnly = true;
    else out[name] = argv[++i];
  }
  return out;
}

const opts = options(process.argv.slice(2));
const print = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const params = JSON.parse(opts.params);
const variables = JSON.parse(opts.variables);
const count = Number(opts.count);
let open = count;
const done = () => {
  open -= 1;
  if (open <= 0) setTimeout(() => process.exit(0), 50);
};

function errorOf(err) {
  if (Array.isArray(err)) return err; // GraphQL errors
  if (err && typeof err.code === "number") return { code: err.code, reason: err.reason };
  return { message: String(err && err.message ? err.message : err) };
}

// `count` subscriptions of the document on one client (graphql-ws and graphql-sse alike),
// each printing its messages.
function subscribeAll(client) {
  for (let sub = 0; sub < count; sub++) {
    client.subscribe(
      { query: opts.query, variables },
      {
        next: (payload) => print({ event: "next", sub, payload }),
        error: (err) => {
          print({ event: "error", sub, error: errorOf(err) });
          done();
        },
        complete: () => {
          print({ event: "complete", sub });
          done();
        },
      },
    );
  }
}

if (opts.transport === "ws") {
  const client = createWsClient({
    url: opts.url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: params,
    lazy: !opts.connectOnly,
    retryAttempts: 0,
    shouldRetry: () => false,
    on: {
      connected: () => print({ event: "connected" }),
      closed: (event) => {
        print({ event: "closed", code: event.code, reason: String(event.reason) });
        setTimeout(() => process.exit(0), 50);
      },
    },
  });
  if (!opts.connectOnly) subscribeAll(client);
} else {
  const client = createSseClient({
    url: opts.url + "/graphql/stream",
    headers: params,
    retryAttempts: 0,
    on: { connected: () => print({ event: "connected" }) },
  });
  subscribeAll(client);
}
