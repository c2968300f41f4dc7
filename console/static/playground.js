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

// No ?query= prefill: a link could otherwise stage a mutation for an admin to run with one key.
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: example,
    shouldPersistHeaders: false,
  }),
);
