// httpsig.js: HTTP Message Signatures (RFC 9421) with Ed25519 in the
// browser, as package httpsig signs in Go: the same signature base, the
// same Signature-Input (parameters in RFC 9421 2.3's order: created,
// expires, nonce, alg, keyid, tag), so that the owner node's
// httpsig.Verifier accepts what the portal signs. The key is a WebCrypto
// Ed25519 key (keys.js) and never leaves the browser. Signature and
// Signature-Input are not among the headers browsers forbid a page to
// set. internal/web/datajs_test.go holds this file to Go and to RFC 9421's
// B.2.6 vector.

import { toBase64 } from './keys.js';

// The components CityID's data requests cover (httpsig.DefaultComponents):
// one request, to one node.
export const DEFAULT_COMPONENTS = ['@method', '@target-uri', '@authority'];
export const TAG = 'cityid'; // wire.SignatureTag

export class HTTPSigError extends Error {
  constructor(message) {
    super(message);
    this.name = 'HTTPSigError';
  }
}

// sfString is an RFC 8941 string: printable ASCII, with '"' and '\'
// escaped.
function sfString(s) {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new HTTPSigError(`${JSON.stringify(s)} is not a structured-field string (printable ASCII only)`);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// paramsLine is the value of @signature-params, which Signature-Input
// carries as it is.
function paramsLine(components, p) {
  let s = `(${components.map(sfString).join(' ')})`;
  if (p.created !== undefined) s += `;created=${integer(p.created, 'created')}`;
  if (p.expires !== undefined) s += `;expires=${integer(p.expires, 'expires')}`;
  for (const k of ['nonce', 'alg', 'keyid', 'tag']) {
    if (p[k]) s += `;${k}=${sfString(p[k])}`;
  }
  return s;
}

function integer(n, what) {
  if (!Number.isSafeInteger(n) || n < 0 || n > 999999999999999) throw new HTTPSigError(`${what} ${n} is not an RFC 8941 integer`);
  return String(n);
}

// authority is host[:port], lowercase, without a default port, as URL
// already normalises it.
const authority = (u) => u.host;

function componentValue(req, u, name) {
  let v;
  switch (name) {
    case '@method': v = (req.method || 'GET').toUpperCase(); break;
    case '@target-uri': v = `${u.protocol}//${authority(u)}${u.pathname}${u.search}`; break;
    case '@authority': v = authority(u); break;
    case '@scheme': v = u.protocol.slice(0, -1); break;
    case '@request-target': v = u.pathname + u.search; break;
    case '@path': v = u.pathname || '/'; break;
    case '@query': v = `?${u.search.slice(1)}`; break;
    default: {
      if (name.startsWith('@') || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new HTTPSigError(`component ${JSON.stringify(name)} is not supported`);
      const headers = req.headers || {};
      const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
      if (name === 'host' && key === undefined) {
        v = u.host;
        break;
      }
      if (key === undefined) throw new HTTPSigError(`the request has no ${JSON.stringify(name)} field`);
      // RFC 9421 2.1: each line trimmed, lines joined by ", ".
      const lines = Array.isArray(headers[key]) ? headers[key] : [headers[key]];
      v = lines.map((x) => String(x).replace(/^[ \t]+|[ \t]+$/g, '')).join(', ');
    }
  }
  if (/[\r\n]/.test(v)) throw new HTTPSigError(`component ${JSON.stringify(name)} holds a line break`);
  return v;
}

// signatureBase is RFC 9421 2.5's signature base of req ({method, url,
// headers}) for params ({components, created, expires, nonce, alg,
// keyid, tag}): one line a component, then @signature-params.
export function signatureBase(req, params) {
  const components = params.components || DEFAULT_COMPONENTS;
  const u = new URL(req.url);
  const seen = new Set();
  let base = '';
  for (const name of components) {
    if (seen.has(name)) throw new HTTPSigError(`component ${JSON.stringify(name)} covered twice`);
    seen.add(name);
    base += `${sfString(name)}: ${componentValue(req, u, name)}\n`;
  }
  return `${base}"@signature-params": ${paramsLine(components, params)}`;
}

// nonce is 16 random bytes in base64url without padding
// (httpsig.RandomNonce).
export function nonce() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// signHeaders signs req ({method, url, headers}) with key (a WebCrypto
// Ed25519 key pair; pubKey its hex, the keyid) and returns the two fields
// to send with it. now (ms) and the nonce may be given for tests.
export async function signHeaders(req, key, pubKey, { label = 'sig1', components = DEFAULT_COMPONENTS, tag = TAG, now = Date.now(), nonce: n = nonce(), alg = 'ed25519' } = {}) {
  if (!/^[a-z*][a-z0-9_\-.*]*$/.test(label)) throw new HTTPSigError(`label ${JSON.stringify(label)} is not a structured-field key`);
  const params = { components, created: Math.floor(now / 1000), nonce: n, alg, keyid: pubKey, tag };
  const base = signatureBase(req, params);
  const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', key.privateKey, new TextEncoder().encode(base)));
  return {
    'Signature-Input': `${label}=${paramsLine(components, params)}`,
    Signature: `${label}=:${toBase64(sig)}:`,
  };
}

// signedFetch is fetch with the request signed when key is given (an
// anonymous request otherwise). url is made absolute against the page:
// @target-uri and @authority are what the node sees, this page's origin.
export async function signedFetch(url, init = {}, key = null, pubKey = '') {
  const abs = new URL(url, globalThis.location?.href).href;
  const headers = { ...(init.headers || {}) };
  if (key) Object.assign(headers, await signHeaders({ method: init.method || 'GET', url: abs, headers }, key, pubKey));
  return fetch(abs, { ...init, headers, cache: 'no-store' });
}
