// The GraphQL playground: GraphiQL (embedded in the binary, see console/vendor) against /query.
// It sends the token the console signed in with, if any, and the namespace the console runs in,
// so both see the same role and the same data.

/* global React, ReactDOM, GraphiQL */
import { namespace, token } from './api.js';

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
  headers: {
    ...(token.get() ? { Authorization: `Bearer ${token.get()}` } : {}),
    ...(namespace.get() ? { 'Herald-Namespace': namespace.get() } : {}),
  },
});

// No ?query= prefill: a link could otherwise stage a mutation for an admin to run with one key.
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: example,
    shouldPersistHeaders: false,
  }),
);
