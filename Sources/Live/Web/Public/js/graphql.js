// A small GraphQL client for the pages: queries and mutations over `POST /graphql`, subscriptions
// over one WebSocket speaking `graphql-transport-ws` (docs/api.md), opened when the first
// subscription starts, re-opened with a growing pause when it drops, every running subscription
// sent again on the new socket. No dependency: what the shop's pages need and nothing else.

/** A request the server refused or could not answer; `status` is the HTTP status (0: no answer). */
export class GraphQLError extends Error {
  constructor(message, { status = 0, retryAfterSeconds = null } = {}) {
    super(message);
    this.name = "GraphQLError";
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class GraphQLClient {
  /**
   * @param {{endpoint?: string, token?: () => string | null, WebSocketImpl?: typeof WebSocket}} options
   *   `token` is read for every request and every new socket, so signing in or out takes effect
   *   at once (call `reconnect()` so the socket speaks for the new caller).
   */
  constructor({ endpoint = "/graphql", token = () => null, WebSocketImpl = globalThis.WebSocket } = {}) {
    this.endpoint = endpoint;
    this.token = token;
    this.WebSocketImpl = WebSocketImpl;
    this.operations = new Map(); // id -> {payload, sink}
    this.nextID = 1;
    this.socket = null;
    this.acknowledged = false;
    this.retries = 0;
    this.closedByUs = false;
    this.onConnection = () => {};
  }

  /** Runs a query or mutation; resolves with `data`, rejects with a GraphQLError. */
  async request(query, variables = {}) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(this.endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    } catch (error) {
      throw new GraphQLError(`the shop cannot be reached (${error.message})`);
    }
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    let body = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON: a proxy's page, or an overloaded server's empty answer.
    }
    if (response.status === 429 || response.status === 503) {
      throw new GraphQLError("the shop is busy right now", { status: response.status, retryAfterSeconds: retryAfter });
    }
    if (response.status === 401) throw new GraphQLError("your sign-in is not valid any more: sign in again", { status: 401 });
    if (!body) throw new GraphQLError(`the shop answered ${response.status}`, { status: response.status });
    if (body.errors && body.errors.length) {
      throw new GraphQLError(body.errors.map((e) => e.message).join("; "), { status: response.status });
    }
    return body.data;
  }

  /**
   * Starts a subscription; `sink.next(data)` gets each result, `sink.error(message)` a refusal,
   * `sink.complete()` the end. Returns a function that stops it.
   */
  subscribe(query, variables, sink) {
    const id = String(this.nextID++);
    const operation = { payload: { query, variables }, sink };
    this.operations.set(id, operation);
    this.ensureSocket();
    if (this.acknowledged) this.send({ id, type: "subscribe", payload: operation.payload });
    return () => {
      if (!this.operations.delete(id)) return;
      if (this.acknowledged) this.send({ id, type: "complete" });
    };
  }

  /** Closes the socket and opens a new one (after signing in or out), resubscribing everything. */
  reconnect() {
    if (this.socket) {
      this.closedByUs = true;
      this.socket.close(1000, "reconnecting");
      this.socket = null;
    }
    this.acknowledged = false;
    if (this.operations.size) this.ensureSocket();
  }

  ensureSocket() {
    if (this.socket) return;
    const url = new URL(this.endpoint, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new this.WebSocketImpl(url.href, "graphql-transport-ws");
    this.socket = socket;
    this.closedByUs = false;
    socket.onopen = () => {
      const token = this.token();
      this.send({ type: "connection_init", payload: token ? { Authorization: `Bearer ${token}` } : {} });
    };
    socket.onmessage = (event) => this.receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.acknowledged = false;
      this.onConnection(false);
      if (this.closedByUs) return;
      if (event.code === 4403) {
        for (const { sink } of this.operations.values()) sink.error?.("your sign-in is not valid any more: sign in again");
        this.operations.clear();
        return;
      }
      // Dropped (a deploy, a network change): again after 0.5 s, doubling to 8 s.
      const pause = Math.min(8000, 500 * 2 ** this.retries++);
      setTimeout(() => this.operations.size && this.ensureSocket(), pause);
    };
  }

  receive(message) {
    switch (message.type) {
      case "connection_ack":
        this.acknowledged = true;
        this.retries = 0;
        this.onConnection(true);
        for (const [id, { payload }] of this.operations) this.send({ id, type: "subscribe", payload });
        break;
      case "next": {
        const operation = this.operations.get(message.id);
        if (!operation) break;
        if (message.payload.errors?.length) operation.sink.error?.(message.payload.errors.map((e) => e.message).join("; "));
        else operation.sink.next(message.payload.data);
        break;
      }
      case "error": {
        const operation = this.operations.get(message.id);
        this.operations.delete(message.id);
        operation?.sink.error?.((message.payload || []).map((e) => e.message).join("; ") || "refused");
        break;
      }
      case "complete": {
        const operation = this.operations.get(message.id);
        this.operations.delete(message.id);
        operation?.sink.complete?.();
        break;
      }
      case "ping":
        this.send({ type: "pong" });
        break;
      default:
        break;
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }
}
