// Real OAuth 2.1 authorization server (oidc-provider) plus a tiny MCP resource
// server, for mcpauth end-to-end tests. TEST ONLY: plain http on loopback,
// auto-approving interactions, an unauthenticated introspection helper.
//
// Usage: node server.mjs [PORT]          (PORT or env PORT; 0 = ephemeral)
// When ready, prints exactly one JSON line on stdout:
//   {"issuer": "...", "mcp": "...", "stats": "...", ...}
// Everything else goes to stderr. Tokens and secrets are never logged.
//
// Environment:
//   PORT                       listen port (default 0)
//   ACCESS_TOKEN_TTL           access token lifetime, seconds (default 3600)
//   REFRESH_TOKEN_TTL          refresh token lifetime, seconds (default 14 days)
//   RS_CLIENT_SECRET           secret of the confidential client
//                              "mcp-resource-server" allowed to introspect any
//                              token (default: random, unusable from outside)
//   CLIENT_DEFAULT_APPLICATION_TYPE  application_type assumed when a DCR request
//                              omits it: "native" (default) or "web"
//   DEFAULT_SCOPE              scope assumed when an authorization request has
//                              no scope parameter (RFC 6749 §3.3), default
//                              "mcp"; set to "-" to keep oidc-provider's own
//                              behaviour (access_denied: no scope was granted)
//   EXIT_ON_STDIN_EOF=1        exit when stdin closes (parent died)
//   GRANTS=1                   also enable the device flow (RFC 8628; dynamic
//                              clients may register for it) and client
//                              credentials (RFC 6749 §4.4) for two clients:
//                              "mcpauth-cc-secret" (client_secret_basic, secret
//                              CC_CLIENT_SECRET) and "mcpauth-cc-jwt"
//                              (private_key_jwt, public keys CC_CLIENT_JWKS, a
//                              JSON JWK Set). Off by default: the other tests
//                              keep the server as it was.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints NOTICEs with console.info (stdout) and WARNINGs with
// console.warn. stdout is reserved for the ready line, so route everything to
// stderr before the library is loaded.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

// Generate the signing key (thread pool) while the library loads.
const keyPair = new Promise((resolve, reject) => {
  crypto.generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (
    err ? reject(err) : resolve(privateKey)));
});
const { default: Provider, errors } = await import('oidc-provider');

const intEnv = (name, def) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`invalid ${name}=${raw}`);
    process.exit(2);
  }
  return n;
};

const PORT = process.argv[2] !== undefined ? Number(process.argv[2]) : intEnv('PORT', 0);
const ACCESS_TOKEN_TTL = Math.max(1, intEnv('ACCESS_TOKEN_TTL', 3600));
const REFRESH_TOKEN_TTL = Math.max(1, intEnv('REFRESH_TOKEN_TTL', 14 * 24 * 3600));
const RS_CLIENT_ID = 'mcp-resource-server';
const RS_CLIENT_SECRET = process.env.RS_CLIENT_SECRET || crypto.randomBytes(32).toString('base64url');
const DEFAULT_APP_TYPE = process.env.CLIENT_DEFAULT_APPLICATION_TYPE || 'native';
const DEFAULT_SCOPE = process.env.DEFAULT_SCOPE === undefined ? 'mcp' : process.env.DEFAULT_SCOPE;
const ACCOUNT_ID = 'demo-user';
const GRANTS = process.env.GRANTS === '1';
const MCP_SCOPES = ['mcp', 'admin'];

if (process.env.EXIT_ON_STDIN_EOF === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

const stats = {
  registrations: 0,
  code_exchanges: 0,
  refreshes: 0,
  reuse_detected: 0,
  revocations: 0,
  grants_revoked: 0,
  logins: 0,
  client_credentials: 0,
  device_codes: 0,
};

// ---------------------------------------------------------------------------
// Server-side cookie jar for "dumb" browsers.
//
// oidc-provider ties an interaction to the browser with cookies
// (_interaction, _interaction_resume, _session). The fake browsers used by the
// tests only follow redirects and keep no cookies, so we remember the cookies
// the provider set in the response that redirected to /interaction/:uid and
// replay them when a request for /interaction/:uid or /auth/:uid arrives
// WITHOUT any Cookie header. Browsers that do send cookies are left alone.
// ---------------------------------------------------------------------------
const jar = new Map(); // uid -> Map(cookieName -> value)
const JAR_MAX = 1000;

function flowUid(pathname) {
  const m = /^\/(?:interaction|auth)\/([A-Za-z0-9_-]+)(?:\/.*)?$/.exec(pathname);
  return m ? m[1] : undefined;
}

function parseSetCookie(header) {
  // "name=value; Path=/...; expires=...; httponly" -> [name, value, expired]
  const [pair, ...attrs] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq < 1) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  let expired = value === '';
  for (const attr of attrs) {
    const [k, v] = attr.split('=');
    if (k.trim().toLowerCase() === 'expires' && v && Date.parse(v) <= Date.now()) expired = true;
    if (k.trim().toLowerCase() === 'max-age' && v && Number(v) <= 0) expired = true;
  }
  return [name, value, expired];
}

function cookieHeader(cookies) {
  return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

function withCookieJar(handler) {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    const uid = flowUid(url.pathname);
    const injected = !req.headers.cookie && uid && jar.has(uid) ? new Map(jar.get(uid)) : undefined;
    if (injected) req.headers.cookie = cookieHeader(injected);

    let captured = false;
    const capture = () => {
      if (captured) return;
      captured = true;
      const location = res.getHeader('location');
      if (typeof location !== 'string') return;
      const next = flowUid(new URL(location, 'http://x').pathname);
      if (!next || !new URL(location, `http://${req.headers.host}`).pathname.startsWith('/interaction/')) return;
      const cookies = new Map(injected ?? []);
      let set = res.getHeader('set-cookie') ?? [];
      if (!Array.isArray(set)) set = [String(set)];
      for (const h of set) {
        const parsed = parseSetCookie(h);
        if (!parsed) continue;
        const [name, value, expired] = parsed;
        if (expired) cookies.delete(name); else cookies.set(name, value);
      }
      if (jar.size >= JAR_MAX) jar.delete(jar.keys().next().value);
      jar.set(next, cookies);
    };
    for (const method of ['writeHead', 'write', 'end']) {
      const orig = res[method];
      res[method] = function patched(...args) {
        capture();
        return orig.apply(this, args);
      };
    }
    return handler(req, res);
  };
}

// ---------------------------------------------------------------------------

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, '127.0.0.1', resolve);
});
const { port } = server.address();
const ISSUER = `http://127.0.0.1:${port}`;
const MCP_URL = `${ISSUER}/mcp`;
const PRM_URL = `${ISSUER}/.well-known/oauth-protected-resource/mcp`;

const privateKey = await keyPair;
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

// The machine clients of GRANTS=1 (client credentials only).
const grantClients = [];
if (GRANTS) {
  if (process.env.CC_CLIENT_SECRET) {
    grantClients.push({
      client_id: 'mcpauth-cc-secret',
      client_secret: process.env.CC_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
  }
  if (process.env.CC_CLIENT_JWKS) {
    grantClients.push({
      client_id: 'mcpauth-cc-jwt',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: JSON.parse(process.env.CC_CLIENT_JWKS),
    });
  }
}

const configuration = {
  clients: [{
    client_id: RS_CLIENT_ID,
    client_secret: RS_CLIENT_SECRET,
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }, ...grantClients],
  clientDefaults: {
    application_type: DEFAULT_APP_TYPE,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: 'RS256',
  },
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'] },
  pkce: { required: () => true }, // oidc-provider v9 only implements S256
  responseTypes: ['code'],
  features: {
    devInteractions: { enabled: false },
    dPoP: { enabled: false },
    registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true },
    revocation: {
      enabled: true,
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    introspection: {
      enabled: true,
      // The resource server client may introspect anything; a client may
      // introspect its own tokens.
      allowedPolicy: async (ctx, client, token) => client.clientId === RS_CLIENT_ID
        || token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf ?? MCP_URL,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== MCP_URL) throw new errors.InvalidTarget();
        return {
          scope: MCP_SCOPES.join(' '),
          audience: MCP_URL,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'opaque',
        };
      },
    },
    rpInitiatedLogout: { enabled: false },
    deviceFlow: { enabled: GRANTS },
    clientCredentials: { enabled: GRANTS },
    pushedAuthorizationRequests: { enabled: false },
  },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub }),
  }),
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  expiresWithSession: async () => false,
  allowOmittingSingleRegisteredRedirectUri: false,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    ClientCredentials: ACCESS_TOKEN_TTL,
    IdToken: 3600,
    RefreshToken: REFRESH_TOKEN_TTL,
    Interaction: 600,
    Session: 24 * 3600,
    Grant: Math.max(REFRESH_TOKEN_TTL, 24 * 3600),
  },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(ISSUER, configuration);

// --- stats from provider events --------------------------------------------
provider.on('registration_create.success', () => { stats.registrations += 1; });
provider.on('grant.success', (ctx) => {
  const gt = ctx.oidc.params.grant_type;
  if (gt === 'authorization_code') stats.code_exchanges += 1;
  if (gt === 'refresh_token') stats.refreshes += 1;
  if (gt === 'client_credentials') stats.client_credentials += 1;
  if (gt === 'urn:ietf:params:oauth:grant-type:device_code') stats.device_codes += 1;
});
provider.on('grant.error', (ctx, err) => {
  if (err?.error === 'invalid_grant' && err.error_detail === 'refresh token already used') {
    stats.reuse_detected += 1;
  }
});
provider.on('grant.revoked', () => { stats.grants_revoked += 1; });
// There is no "revocation.success" event: count tokens destroyed by the
// revocation endpoint (token.destroy() emits <kind>.destroyed).
for (const ev of ['access_token.destroyed', 'refresh_token.destroyed']) {
  provider.on(ev, () => {
    if (Provider.ctx?.oidc?.route === 'revocation') stats.revocations += 1;
  });
}
provider.on('server_error', (ctx, err) => {
  console.error(`server_error on ${ctx.method} ${ctx.path}: ${err?.message}`);
});

// --- auto-approving interaction ----------------------------------------------
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    stats.logins += 1;
    await provider.interactionFinished(req, res, {
      login: { accountId: ACCOUNT_ID, amr: ['pwd'] },
    }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const accountId = details.session.accountId;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, {
      consent: details.grantId ? {} : { grantId },
    }, { mergeWithLastSubmission: true });
    return;
  }
  await provider.interactionFinished(req, res, {
    error: 'access_denied',
    error_description: `unsupported prompt ${prompt.name}`,
  }, { mergeWithLastSubmission: false });
}

// --- resource server ---------------------------------------------------------
function sendJSON(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function challenge(extra = '') {
  return `Bearer resource_metadata="${PRM_URL}"${extra}`;
}

// Returns the AccessToken model or undefined after having answered 401/403.
async function authenticate(req, res) {
  const auth = req.headers.authorization;
  if (!auth) {
    sendJSON(res, 401, { error: 'invalid_request', error_description: 'missing bearer token' },
      { 'www-authenticate': challenge() });
    return undefined;
  }
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(auth);
  const token = m
    ? (await provider.AccessToken.find(m[1])) ?? (await provider.ClientCredentials.find(m[1]))
    : undefined;
  const aud = token ? [].concat(token.aud ?? []) : [];
  if (!token || token.isExpired || !aud.includes(MCP_URL)) {
    sendJSON(res, 401, { error: 'invalid_token' },
      { 'www-authenticate': challenge(', error="invalid_token", error_description="the access token is invalid, expired, revoked or not for this resource"') });
    return undefined;
  }
  if (!token.scopes.has('mcp')) {
    sendJSON(res, 403, { error: 'insufficient_scope' },
      { 'www-authenticate': challenge(', error="insufficient_scope", scope="mcp"') });
    return undefined;
  }
  return token;
}

const TOOLS = [{
  name: 'whoami',
  description: 'Returns the subject, client and scopes of the access token.',
  inputSchema: { type: 'object', properties: {} },
}];

function rpcResult(id, result) { return { jsonrpc: '2.0', id, result }; }
function rpcError(id, code, message) { return { jsonrpc: '2.0', id: id ?? null, error: { code, message } }; }

async function mcp(req, res) {
  const token = await authenticate(req, res);
  if (!token) return;
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' });
    res.end();
    return;
  }
  let msg;
  try {
    msg = JSON.parse(await readBody(req));
  } catch {
    sendJSON(res, 400, rpcError(null, -32700, 'parse error'));
    return;
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg) || msg.jsonrpc !== '2.0') {
    sendJSON(res, 400, rpcError(msg?.id, -32600, 'invalid request (batches unsupported)'));
    return;
  }
  if (msg.id === undefined) { // notification or response
    res.writeHead(202);
    res.end();
    return;
  }
  switch (msg.method) {
    case 'initialize':
      sendJSON(res, 200, rpcResult(msg.id, {
        protocolVersion: '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'mcpauth-test-rs', version: '0.0.0' },
      }));
      return;
    case 'ping':
      sendJSON(res, 200, rpcResult(msg.id, {}));
      return;
    case 'tools/list':
      sendJSON(res, 200, rpcResult(msg.id, { tools: TOOLS }));
      return;
    case 'tools/call': {
      if (msg.params?.name !== 'whoami') {
        sendJSON(res, 200, rpcError(msg.id, -32602, `unknown tool ${msg.params?.name}`));
        return;
      }
      const who = {
        sub: token.accountId,
        client_id: token.clientId,
        scope: token.scope ?? '',
        aud: token.aud,
      };
      sendJSON(res, 200, rpcResult(msg.id, {
        content: [{ type: 'text', text: JSON.stringify(who) }],
        structuredContent: who,
        isError: false,
      }));
      return;
    }
    default:
      sendJSON(res, 200, rpcError(msg.id, -32601, `method not found: ${msg.method}`));
  }
}

// Test-only helper: is this access/refresh token currently valid? No client
// authentication; never exposes the token.
async function testIntrospect(req, res) {
  const form = new URLSearchParams(await readBody(req));
  const value = form.get('token') ?? '';
  const at = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
  if (at && !at.isExpired) {
    sendJSON(res, 200, {
      active: true, kind: 'access_token', sub: at.accountId, client_id: at.clientId, scope: at.scope, aud: at.aud,
    });
    return;
  }
  const rt = await provider.RefreshToken.find(value);
  if (rt && !rt.isExpired && !rt.consumed) {
    sendJSON(res, 200, {
      active: true, kind: 'refresh_token', sub: rt.accountId, client_id: rt.clientId, scope: rt.scope,
    });
    return;
  }
  sendJSON(res, 200, { active: false });
}

const oidc = provider.callback();
const handleOIDC = withCookieJar(oidc);
const handleInteraction = withCookieJar(interaction);

server.on('request', async (req, res) => {
  const u = new URL(req.url, ISSUER);
  const { pathname } = u;
  try {
    if (pathname === '/auth' && req.method === 'GET' && !u.searchParams.has('scope')
      && DEFAULT_SCOPE && DEFAULT_SCOPE !== '-') {
      u.searchParams.set('scope', DEFAULT_SCOPE);
      req.url = u.pathname + u.search;
    }
    if (pathname === '/mcp') return await mcp(req, res);
    if (pathname === '/.well-known/oauth-protected-resource/mcp' && req.method === 'GET') {
      return sendJSON(res, 200, {
        resource: MCP_URL,
        authorization_servers: [ISSUER],
        scopes_supported: ['mcp'],
        bearer_methods_supported: ['header'],
        resource_name: 'mcpauth test MCP server',
      });
    }
    if (pathname === '/test/stats' && req.method === 'GET') return sendJSON(res, 200, stats);
    if (pathname === '/test/introspect' && req.method === 'POST') return await testIntrospect(req, res);
    if (/^\/interaction\/[A-Za-z0-9_-]+$/.test(pathname) && req.method === 'GET') {
      return await handleInteraction(req, res);
    }
    return handleOIDC(req, res);
  } catch (err) {
    console.error(`error on ${req.method} ${pathname}: ${err?.name}: ${err?.message}`);
    if (!res.headersSent) {
      const status = err?.statusCode ?? 500;
      sendJSON(res, status, { error: err?.error ?? 'server_error', error_description: err?.error_description ?? 'internal error' });
    } else {
      res.destroy();
    }
  }
});

const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

process.stdout.write(`${JSON.stringify({
  issuer: ISSUER,
  mcp: MCP_URL,
  resource_metadata: PRM_URL,
  stats: `${ISSUER}/test/stats`,
  introspect: `${ISSUER}/test/introspect`,
  rs_client_id: RS_CLIENT_ID,
  access_token_ttl: ACCESS_TOKEN_TTL,
  pid: process.pid,
})}\n`);
console.error(`mcpauth test AS ready at ${ISSUER} (oidc-provider, node ${process.version})`);
