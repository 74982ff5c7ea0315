// A real OpenID Connect provider for the end-to-end tests (panva's oidc-provider), started by
// the harness (`tests/src/oidc.rs`) with its settings as JSON in OIDC_TEST_CONFIG:
//   { "port", "issuer"?, "clients": [{ client_id, client_secret, redirect_uris }],
//     "accounts": { sub: { groups, name, preferred_username } }, "tamper"? }
// `PUT /test/accounts/<sub>` with JSON claims changes an account (its groups move, say).
// The login is driven by the test: the authorization request carries `login_hint` (the account),
// (or, from a browser, `default_account` is), and the interaction signs that account in and
// consents at once (no forms to fill).
// `tamper` makes the provider hand out one kind of bad ID token, re-signed with its own key, so
// the server's checks are tried against a provider, not a mock: `issuer`, `audience`, `expired`
// or `nonce`.
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair, SignJWT, decodeJwt } from "jose";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = config.issuer || `http://127.0.0.1:${config.port}`;

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: "test", alg: "RS256", use: "sig" };

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({ ...c, grant_types: ["authorization_code"], response_types: ["code"] })),
  jwks: { keys: [jwk] },
  claims: { openid: ["sub", "groups", "name", "preferred_username"] },
  // The claims go in the ID token itself, as Entra ID puts `groups` and `roles` there.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, sub) => {
    const claims = config.accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, claims: () => ({ sub, ...claims }) };
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  const account = ctx.path.match(/^\/test\/accounts\/([^/]+)$/);
  if (account && ctx.method === "PUT") {
    let body = "";
    for await (const chunk of ctx.req) body += chunk;
    config.accounts[account[1]] = JSON.parse(body);
    ctx.status = 204;
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (match && ctx.method === "GET") {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = details.params.login_hint || config.default_account;
    if (!config.accounts[accountId]) {
      ctx.status = 400;
      ctx.body = "unknown login_hint";
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const result = { login: { accountId }, consent: { grantId } };
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  await next();
  if (config.tamper && ctx.path === "/token" && ctx.body && ctx.body.id_token) {
    const claims = decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (config.tamper === "issuer") claims.iss = "http://127.0.0.1:1/not-the-issuer";
    if (config.tamper === "audience") claims.aud = "some-other-client";
    if (config.tamper === "expired") Object.assign(claims, { iat: now - 3600, exp: now - 1800 });
    if (config.tamper === "nonce") claims.nonce = "not-the-nonce-it-was-given";
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "test" }).sign(privateKey) };
  }
});

provider.listen(config.port, "127.0.0.1", () => console.log(`listening ${issuer}`));
