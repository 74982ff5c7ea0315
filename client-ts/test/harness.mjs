// Starts the real server (`target/debug/talkzone serve`) on a free port with a temp SQLite
// database, as tests/src/lib.rs's ProcessServer does, and gives the tests what they need: a
// duty worker signed in through the second factor, a TCP proxy that can cut connections, and
// `eventually`.
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.TALKZONE_BIN ?? resolve(here, "../../target/debug/talkzone");
/** The JWT secret the test server signs with (so a test can make an expired token). */
export const JWT_SECRET = "client-ts-test-secret-client-ts-test-secret-0123";

export { WebSocket };

/** Starts the server; `stop()` ends it and removes its files. */
export async function startServer(env = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} does not exist: cargo build -p talkzone-server first`);
  const dir = mkdtempSync(join(tmpdir(), "talkzone-client-ts-"));
  const settings = {
    ...process.env,
    TALKZONE_LISTEN: "127.0.0.1:0",
    TALKZONE_DATA_DIR: dir,
    TALKZONE_DATABASE_URL: `sqlite://${join(dir, "talkzone.db")}`,
    TALKZONE_JWT_SECRET: JWT_SECRET,
    TALKZONE_LOG: "error",
    TALKZONE_AUTH_PER_IP_PER_MIN: "10000",
    TALKZONE_AUTH_BURST: "10000",
    TALKZONE_SIGNUPS_FREE_PER_SOURCE: "1000000",
    TALKZONE_OPEN_CHATS_PER_SOURCE: "0",
    TALKZONE_WS_PER_SOURCE: "1000000",
    TALKZONE_WS_PER_USER: "10000",
    ...env,
  };
  const child = spawn(BIN, ["serve"], { env: settings, stdio: ["ignore", "pipe", "inherit"] });
  // Never leave a server behind, however the test process ends: the runner stops a file that
  // timed out with a signal, which skips "exit" handlers unless the signal is handled.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  for (const sig of ["SIGTERM", "SIGINT"]) process.once(sig, () => process.exit(1));
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("talkzone did not start within 30 s")), 30_000);
    child.once("exit", (code) => fail(new Error(`talkzone exited (${code}) before listening`)));
    lines.on("line", (line) => {
      const m = /^Talk Zone is listening on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        ok(m[1].replace(/\/$/, ""));
      }
    });
  });
  return {
    base,
    env: settings,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret: the authenticator app. */
export function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Creates a duty worker with the CLI and signs it in (first sign-in: enrols the second factor). */
export async function dutyWorker(server, username = "sam") {
  const password = "harbour-lantern-orchard-72";
  const made = spawnSync(BIN, ["admin", "create-user", "--username", username, "--role", "duty_worker"], {
    env: server.env,
    input: password + "\n",
    encoding: "utf8",
  });
  if (made.status !== 0) throw new Error(`create-user failed: ${made.stderr}`);
  const step = await post(server.base, "/v1/auth/login", { username, password });
  if (step.access_token) return step;
  const sf = step.second_factor;
  return post(server.base, "/v1/auth/login/second-factor", {
    challenge: sf.challenge,
    code: totp(sf.enrolment.secret),
  });
}

/** A POST that must succeed: its JSON answer. */
export async function post(base, path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `check` (which throws or returns falsy until ready) for up to `ms`. */
export async function eventually(check, ms = 10_000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A TCP proxy in front of the server: `cut()` drops every connection through it (a phone
 * losing signal), `refuse` turns new connections away, `muteDownstream` swallows what the
 * server says (so a message is stored but its ack never arrives).
 */
export async function startProxy(target) {
  const { hostname, port } = new URL(target);
  const pairs = new Set();
  const proxy = {
    refuse: false,
    muteDownstream: false,
    accepted: 0,
    base: "",
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close() {
      proxy.cut();
      return new Promise((r) => srv.close(r));
    },
  };
  const srv = net.createServer((client) => {
    if (proxy.refuse) return client.destroy();
    proxy.accepted++;
    const upstream = net.connect(Number(port), hostname);
    const pair = [client, upstream];
    pairs.add(pair);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      if (!proxy.muteDownstream) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  proxy.base = `http://127.0.0.1:${srv.address().port}`;
  return proxy;
}

/** A signed HS256 JWT (to make an expired access token the server must refuse). */
export function jwt(claims, secret = JWT_SECRET) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64(claims);
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** The claims of a JWT, unchecked. */
export function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}
