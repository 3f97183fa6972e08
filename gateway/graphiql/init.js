// Starts GraphiQL on the gateway's page. Served from the gateway's own static directory, so the
// page runs under `script-src 'self'` with no inline script: the page hands its settings over in
// a JSON data block (<script type="application/json" id="graphiql-config">), read here.
(function () {
  "use strict";

  var configElement = document.getElementById("graphiql-config");
  var config = JSON.parse(configElement.textContent);

  var fetcher = GraphiQL.createFetcher({
    // Resolved against the page, so the gateway can live behind a path prefix.
    url: new URL(config.graphqlPath, window.location.href).toString(),
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
