// Who is signed in: a bearer token kept in this browser's local storage, read by every request.
// The embedded shop signs demo tokens at `POST /auth/demo`; a shop with real identity takes the
// token its identity provider issued (pasted, or handed over in the page's `#token=` fragment).

const KEY = "flashdeal.token";

/** The token's claims (not verified here: the server verifies every request), or null. */
export function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

export const session = {
  token() {
    const token = localStorage.getItem(KEY);
    if (!token) return null;
    const exp = claims(token)?.exp;
    if (exp && exp * 1000 < Date.now()) {
      localStorage.removeItem(KEY);
      return null;
    }
    return token;
  },
  user() {
    const token = this.token();
    return token ? claims(token)?.sub ?? null : null;
  },
  isAdmin() {
    const token = this.token();
    const roles = token ? claims(token)?.roles : null;
    return Array.isArray(roles) && roles.includes("admin");
  },
  /** Keeps `token` after checking it looks like a JWT with a subject; throws naming what is wrong. */
  use(token) {
    const trimmed = token.trim().replace(/^Bearer\s+/i, "");
    if (trimmed.split(".").length !== 3 || !claims(trimmed)?.sub) throw new Error("that is not a sign-in token (a JWT with a subject)");
    localStorage.setItem(KEY, trimmed);
  },
  /** Signs in as `user` with the embedded shop's demo sign-in; false when the shop has none. */
  async demo(user, admin = false) {
    const response = await fetch("/auth/demo", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user, admin }),
    });
    if (response.status === 404) return false;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `sign-in answered ${response.status}`);
    localStorage.setItem(KEY, body.token);
    return true;
  },
  signOut() {
    localStorage.removeItem(KEY);
  },
  /** A token handed over in the address (`#token=…`) is kept and removed from the address. */
  adoptFromLocation() {
    const match = /[#&]token=([^&]+)/.exec(location.hash);
    if (!match) return;
    try {
      this.use(decodeURIComponent(match[1]));
    } finally {
      history.replaceState(null, "", location.pathname + location.hash.replace(/[#&]token=[^&]+/, "").replace(/^$/, "#/"));
    }
  },
};
