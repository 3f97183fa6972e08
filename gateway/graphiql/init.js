// Starts GraphiQL on the gateway's page. Served from the gateway's own static directory, so the
// page runs under `script-src 'self'` with no inline script: the page hands its settings over in
// a JSON data block (<script type="application/json" id="graphiql-config">), read here.
(function () {
  "use strict";

  var configElement = document.getElementById("graphiql-config");
  var config = JSON.parse(configElement.textContent);

  // Resolved against the page, so the gateway can live behind a path prefix.
  var url = new URL(config.graphqlPath, window.location.href);
  // Subscriptions go over graphql-transport-ws on the same path, same host: ws: beside http:,
  // wss: beside https: (CSP `connect-src 'self'` covers both). GraphiQL's bundle carries the
  // graphql-ws client; it opens one socket per subscription and sends the Headers tab as the
  // connection_init payload (a browser cannot set headers on a WebSocket), which the gateway
  // reads as request headers: `X-Integration-Id`, `Authorization: Bearer …`.
  var subscriptionUrl = new URL(url.toString());
  subscriptionUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    subscriptionUrl: subscriptionUrl.toString(),
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      // Open the tools pane on the headers tab: that is where `X-Integration-Id`
      // (or `Authorization` when the gateway checks JWTs) goes.
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      // Headers may hold a bearer token: keep them out of localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
