// Live changes: GraphQL subscriptions over one WebSocket (graphql-ws's client, vendored), with the
// session's token and namespace in connection_init. A tab that subscribes also polls when the
// socket is refused or lost, so that it stays current without one.

import { namespace, token } from './api.js';

let client = null;
// What each live subscription does when the socket closes: fall back at once, while graphql-ws
// keeps trying to reconnect (and resubscribes when it does).
const onClosed = new Set();

function socketClient() {
  // graphqlWs is the global of vendor/graphql-ws.min.js, loaded by index.html before the modules.
  client ??= globalThis.graphqlWs.createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/query`,
    lazy: true,
    retryAttempts: 5,
    on: {
      closed: (event) => {
        for (const fail of [...onClosed]) fail(new Error(`the socket closed (${event?.code ?? 'no code'})`));
      },
    },
    connectionParams: () => {
      const params = {};
      const sent = token.get();
      if (sent) params.Authorization = `Bearer ${sent}`;
      if (namespace.get() != null) params['Herald-Namespace'] = namespace.get();
      return params;
    },
  });
  return client;
}

/**
 * Subscribes to document with variables: onData gets each event's data; onDown is called once when
 * the subscription cannot run or ends with an error (the caller polls then). Returns the function
 * that unsubscribes.
 */
export function subscribe(document, variables, { onData, onDown }) {
  let down = false;
  const fail = (err) => {
    if (down) return;
    down = true;
    onClosed.delete(fail);
    onDown?.(err);
  };
  if (!globalThis.graphqlWs || !globalThis.WebSocket) {
    fail(new Error('no WebSocket'));
    return () => {};
  }
  onClosed.add(fail);
  const dispose = socketClient().subscribe(
    { query: document, variables },
    {
      next: (result) => {
        if (result.errors?.length) fail(new Error(result.errors.map((e) => e.message).join(' ')));
        else if (result.data) onData(result.data);
      },
      error: fail,
      complete: () => fail(new Error('the subscription ended')),
    },
  );
  return () => {
    down = true; // our own end is not a failure to fall back from
    onClosed.delete(fail);
    dispose();
  };
}
