// The console's only way to Herald: GraphQL over POST /query with JSON, carrying the session's
// token when Herald asks for one.

const TOKEN_KEY = 'herald.token';

/** One or more GraphQL errors, each with extensions.code and, for input errors, extensions.field. */
export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(' '));
    this.errors = errors;
  }

  has(code) {
    return this.errors.some((e) => e.extensions?.code === code);
  }
}

/** The token lives in sessionStorage: it survives a reload but not the end of the browser session. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let askForToken = () => Promise.reject(new Error('no token prompt installed'));

/**
 * Installs what runs when Herald answers UNAUTHENTICATED: it is told whether a token was already
 * sent (so it can say the token was refused) and resolves once a new one is stored, or rejects
 * when the user gives up.
 */
export function onUnauthenticated(prompt) {
  askForToken = prompt;
}

/** Runs a query or mutation and returns its data; throws ApiError on any error. */
export async function gql(query, variables = {}) {
  for (;;) {
    const sent = token.get();
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    let res;
    try {
      res = await fetch('/query', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    } catch {
      throw new ApiError([{ message: 'Herald could not be reached. Check the connection and try again.' }]);
    }
    const body = await res.json().catch(() => ({ errors: [{ message: `Herald answered HTTP ${res.status}.` }] }));
    const errors = body.errors ?? [];
    if (res.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      await askForToken({ refused: sent != null });
      continue;
    }
    if (errors.length > 0) throw new ApiError(errors);
    return body.data;
  }
}

/**
 * Every node of the connection field that document (one of documents.js's ALL_*) pages through
 * with $after, for pickers.
 */
export async function allNodes(document, field) {
  const nodes = [];
  let after = null;
  for (;;) {
    const conn = (await gql(document, { after }))[field];
    nodes.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage) return nodes;
    after = conn.pageInfo.endCursor;
  }
}
