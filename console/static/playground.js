// The GraphQL playground: GraphiQL (embedded in the binary, see console/vendor) against /query.
// It sends the token the console signed in with, if any, so both see the same role.

/* global React, ReactDOM, GraphiQL */
import { token } from './api.js';

const example = `# Herald's GraphQL API. Ctrl-Enter runs the query; the Docs pane lists every field.
{
  me { name role }
  contacts(first: 5) {
    totalCount
    edges { node { id name webhooks { platform } groups { name } } }
  }
}
`;

const fetcher = GraphiQL.createFetcher({
  url: new URL('/query', window.location.href).href,
  headers: token.get() ? { Authorization: `Bearer ${token.get()}` } : {},
});

const params = new URLSearchParams(window.location.search);
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: example,
    query: params.get('query') ?? undefined,
    shouldPersistHeaders: false,
  }),
);
