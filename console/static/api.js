// The console's only way to Herald: GraphQL over POST /query with JSON, carrying the session's
// token when Herald asks for one and the namespace the console runs in.

import { t } from './i18n.js';

const TOKEN_KEY = 'herald.token';
const NAMESPACE_KEY = 'herald.namespace';
const NAMESPACE_HEADER = 'Herald-Namespace';

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

/**
 * Herald turned the request away over its Herald-Namespace before running it (data is null): the
 * namespace is unknown (NOT_FOUND), malformed (BAD_USER_INPUT) or not the token's (FORBIDDEN).
 */
function refusesNamespace(body) {
  return body.data == null && (body.errors ?? []).some((e) => e.extensions?.field === NAMESPACE_HEADER);
}

/** The token lives in sessionStorage: it survives a reload but not the end of the browser session. */
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * The namespace every request runs in, sent as Herald-Namespace; none (Herald's default) until one
 * is chosen. It starts as the one this browser chose last (localStorage, so it outlives the session,
 * unlike the token), which app.js checks against Herald's list once the console starts.
 */
let current = localStorage.getItem(NAMESPACE_KEY);

export const namespace = {
  /** The namespace requests run in now, or null for Herald's default. */
  get: () => current,
  /** The namespace this browser chose last, or null. */
  remembered: () => localStorage.getItem(NAMESPACE_KEY),
  /** Runs every later request in name (null: Herald's default); remember keeps it for later visits. */
  use(name, { remember = false } = {}) {
    current = name;
    if (remember) {
      if (name == null) localStorage.removeItem(NAMESPACE_KEY);
      else localStorage.setItem(NAMESPACE_KEY, name);
    }
  },
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

/**
 * Runs a query or mutation in the chosen namespace and returns its data; throws ApiError on any
 * error, with refusedNamespace set to the name sent when Herald refused it (gone, or not the token's).
 */
export async function gql(query, variables = {}) {
  for (;;) {
    const sent = token.get();
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    const ns = current;
    if (ns != null) headers[NAMESPACE_HEADER] = ns;
    let res;
    try {
      res = await fetch('/query', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    } catch {
      throw new ApiError([{ message: t('api.unreachable') }]);
    }
    const body = await res.json().catch(() => ({ errors: [{ message: t('api.httpStatus', { status: res.status }) }] }));
    const errors = body.errors ?? [];
    if (res.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
      await askForToken({ refused: sent != null });
      continue;
    }
    if (errors.length > 0) {
      const err = new ApiError(errors);
      if (ns != null && refusesNamespace(body)) err.refusedNamespace = ns;
      throw err;
    }
    return body.data;
  }
}

/**
 * Every node of the connection field that document (one of documents.js's ALL_*) pages through
 * with $after: only for lists people write by hand (message templates), never contacts or groups,
 * which pickers search instead (picker.js).
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
