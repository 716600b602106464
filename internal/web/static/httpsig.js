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

// ---- Verifying a recorded request ---------------------------------------
//
// An access-log entry keeps the request it records: its method, target,
// Signature-Input and Signature. recordedSignature checks, as
// client.CheckEntrySignature does in Go (httpsig.Verifier with the
// entry's time as its clock), that the request was signed by the entry's
// key, so a node cannot log requests nobody made. The fields come from
// the node: they are parsed as RFC 8941 structured fields, and what is
// not one is refused, never guessed at.

// CODES are Go's httpsig error codes, which a refusal carries.
export const CODES = {
  missing: 'signature_missing', malformed: 'signature_malformed', stale: 'signature_stale', future: 'signature_future',
  bad: 'signature_bad', unknownKey: 'signature_unknown_key', notCovered: 'signature_not_covered', alg: 'signature_alg', tag: 'signature_tag',
};
const MAX_AGE_S = 300; // httpsig.DefaultMaxAge
const MAX_SKEW_S = 30; // httpsig.DefaultMaxSkew

class Refusal extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const malformed = (what) => new Refusal(CODES.malformed, what);

// sfParser reads RFC 8941 dictionaries: members key=(inner list);params
// or key=item;params, items being strings, integers, tokens, byte
// sequences or booleans.
function parseDictionary(s) {
  let i = 0;
  const sp = () => { while (s[i] === ' ') i++; };
  const ows = () => { while (s[i] === ' ' || s[i] === '\t') i++; };
  const key = () => {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(i));
    if (!m) throw malformed(`a key is expected at ${i}`);
    i += m[0].length;
    return m[0];
  };
  const bare = () => {
    const c = s[i];
    if (c === '"') {
      let v = '';
      for (i++; i < s.length; i++) {
        if (s[i] === '\\') {
          i++;
          if (s[i] !== '"' && s[i] !== '\\') throw malformed(`a bad escape at ${i}`);
          v += s[i];
        } else if (s[i] === '"') {
          i++;
          return { kind: 'string', v };
        } else if (s[i] < ' ' || s[i] > '~') {
          throw malformed(`a character that is not printable ASCII at ${i}`);
        } else {
          v += s[i];
        }
      }
      throw malformed('a string is not closed');
    }
    if (c === ':') {
      const end = s.indexOf(':', i + 1);
      if (end < 0) throw malformed('a byte sequence is not closed');
      const b64 = s.slice(i + 1, end);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw malformed(`a byte sequence that is not base64 at ${i}`);
      i = end + 1;
      return { kind: 'bytes', v: b64 };
    }
    if (c === '?') {
      if (s[i + 1] !== '0' && s[i + 1] !== '1') throw malformed(`a bad boolean at ${i}`);
      i += 2;
      return { kind: 'boolean', v: s[i - 1] === '1' };
    }
    const n = /^-?[0-9]{1,15}(?![0-9.])/.exec(s.slice(i));
    if (n) {
      i += n[0].length;
      return { kind: 'integer', v: Number(n[0]) };
    }
    const t = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(s.slice(i));
    if (t) {
      i += t[0].length;
      return { kind: 'token', v: t[0] };
    }
    throw malformed(`an item is expected at ${i}`);
  };
  const params = () => {
    const out = [];
    while (s[i] === ';') {
      i++;
      sp();
      const k = key();
      let v = { kind: 'boolean', v: true };
      if (s[i] === '=') {
        i++;
        v = bare();
      }
      if (out.some((p) => p.k === k)) throw malformed(`parameter ${k} is given twice`);
      out.push({ k, v });
    }
    return out;
  };
  const members = [];
  ows();
  while (i < s.length) {
    const k = key();
    let m;
    if (s[i] !== '=') {
      m = { k, item: { kind: 'boolean', v: true }, params: params() };
    } else if (s[++i] === '(') {
      i++;
      const list = [];
      for (;;) {
        sp();
        if (s[i] === ')') {
          i++;
          break;
        }
        const it = bare();
        list.push({ item: it, params: params() });
        if (s[i] !== ' ' && s[i] !== ')') throw malformed(`an inner list is not closed at ${i}`);
      }
      m = { k, list, params: params() };
    } else {
      m = { k, item: bare(), params: params() };
    }
    const at = members.findIndex((x) => x.k === k);
    if (at >= 0) members.splice(at, 1); // RFC 8941 4.2.2: the last wins
    members.push(m);
    ows();
    if (i >= s.length) break;
    if (s[i] !== ',') throw malformed(`a comma is expected at ${i}`);
    i++;
    ows();
    if (i >= s.length) throw malformed('a trailing comma');
  }
  return members;
}

// serialize writes a parsed parameter value back (RFC 8941 4.1), as the
// @signature-params line must be rebuilt.
function serialize(v) {
  switch (v.kind) {
    case 'string': return sfString(v.v);
    case 'integer': return String(v.v);
    case 'token': return v.v;
    case 'bytes': return `:${v.v}:`;
    default: return v.v ? '?1' : '?0';
  }
}

const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));

// ENTRY_PATHS are the routes a dataset's access log records requests of
// (client.entryPaths).
const ENTRY_PATHS = ['/v1/data/', '/v1/access-log/'];

// namesDataset reports whether a logged target is one of dataset's
// routes, read from the target as logged, not as URL cleans it: a path
// with dot segments or a backslash is none (client.namesDataset). The
// identifier is compared without case, as the node's parser takes it.
function namesDataset(target, dataset) {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(target || '');
  const path = m?.[1] || '';
  for (const prefix of ENTRY_PATHS) {
    if (!path.startsWith(prefix)) continue;
    let id;
    try {
      id = decodeURIComponent(path.slice(prefix.length));
    } catch {
      return false;
    }
    if (id.includes('\\') || id.split('/').some((seg) => seg === '.' || seg === '..')) return false;
    return id.toLowerCase() === String(dataset || '').toLowerCase();
  }
  return false;
}

// recordedSignature checks the signature of the request an entry records
// ({method, target, sig_input, sig, key, time}): null when the request
// was anonymous (no key), {ok: true} when the entry's key signed that very request, and
// {ok: false, code, reason} otherwise, code being Go's.
export async function recordedSignature(e) {
  if (!e.key) return null;
  if (!e.sig) return { ok: false, code: CODES.missing, reason: `the entry names key ${e.key} but keeps no signature of the request` };
  try {
    const at = Date.parse(e.time);
    if (Number.isNaN(at)) throw malformed(`the entry's time ${JSON.stringify(e.time)} is not a time`);
    let u;
    try {
      u = new URL(e.target);
    } catch {
      throw malformed(`the entry's target ${JSON.stringify(e.target)} is not a URL`);
    }
    if (!namesDataset(e.target, e.dataset)) throw new Refusal(CODES.bad, `its request, for ${e.target}, is not of dataset ${e.dataset}'s routes`);
    const inputs = parseDictionary(e.sig_input || '');
    const sigs = parseDictionary(e.sig);
    if (inputs.length === 0) throw new Refusal(CODES.missing, 'Signature-Input has no member');
    const label = inputs[0].k;
    const input = inputs[0];
    const sm = sigs.find((m) => m.k === label);
    if (!sm) throw new Refusal(CODES.missing, `Signature has no signature labelled ${JSON.stringify(label)}`);
    if (!input.list) throw malformed(`Signature-Input member ${JSON.stringify(label)} is not an inner list`);
    const components = input.list.map((c, n) => {
      if (c.item.kind !== 'string') throw malformed(`component ${n + 1} is not a string`);
      if (c.params.length) throw malformed(`component ${JSON.stringify(c.item.v)} has parameters, which are not supported`);
      return c.item.v;
    });
    if (!sm.item || sm.item.kind !== 'bytes') throw malformed(`Signature member ${JSON.stringify(label)} is not a byte sequence`);
    const signature = fromB64(sm.item.v);
    if (signature.length !== 64) throw malformed('the signature is not 64 bytes');
    const p = {};
    for (const { k, v } of input.params) {
      const want = { created: 'integer', expires: 'integer', nonce: 'string', alg: 'string', keyid: 'string', tag: 'string' }[k];
      if (want && v.kind !== want) throw malformed(`parameter ${k} is not a${want === 'integer' ? 'n' : ''} ${want}`);
      p[k] = v.v;
    }
    if (p.alg !== undefined && p.alg !== 'ed25519') throw new Refusal(CODES.alg, `alg ${JSON.stringify(p.alg)}, want "ed25519"`);
    if (p.tag !== TAG) throw new Refusal(CODES.tag, `tag ${JSON.stringify(p.tag ?? '')}, want ${JSON.stringify(TAG)}`);
    for (const want of DEFAULT_COMPONENTS) {
      if (!components.includes(want)) throw new Refusal(CODES.notCovered, `the signature does not cover ${JSON.stringify(want)}`);
    }
    if (p.created === undefined) throw malformed('the signature has no created parameter');
    const now = Math.floor(at / 1000);
    if (p.created > now + MAX_SKEW_S) throw new Refusal(CODES.future, `created ${p.created} is ahead of the entry's time`);
    if (p.created < now - MAX_AGE_S) throw new Refusal(CODES.stale, `created ${p.created} is more than ${MAX_AGE_S} s before the entry's time`);
    if (p.expires !== undefined && now >= p.expires) throw new Refusal(CODES.stale, `expired at ${p.expires}`);
    if (!p.keyid) throw new Refusal(CODES.unknownKey, 'the signature has no keyid');
    if (p.keyid !== e.key) throw new Refusal(CODES.unknownKey, `the signature's key ${p.keyid} is not the entry's ${e.key}`);
    if (!/^[0-9a-f]{64}$/.test(e.key)) throw new Refusal(CODES.unknownKey, `the entry's key ${e.key} is not an Ed25519 public key`);
    let base;
    try {
      const seen = new Set();
      base = '';
      for (const name of components) {
        if (seen.has(name)) throw malformed(`component ${JSON.stringify(name)} is covered twice`);
        seen.add(name);
        base += `${sfString(name)}: ${componentValue({ method: e.method, url: e.target }, u, name)}\n`;
      }
    } catch (err) {
      if (err instanceof Refusal) throw err;
      throw new Refusal(CODES.bad, `cannot rebuild the signature base: ${err.message}`);
    }
    const line = `(${components.map(sfString).join(' ')})${input.params.map(({ k, v }) => `;${k}${v.kind === 'boolean' && v.v ? '' : `=${serialize(v)}`}`).join('')}`;
    base += `"@signature-params": ${line}`;
    const pub = await crypto.subtle.importKey('raw', fromHex(e.key), { name: 'Ed25519' }, false, ['verify']);
    if (!(await crypto.subtle.verify('Ed25519', pub, signature, new TextEncoder().encode(base)))) {
      throw new Refusal(CODES.bad, `the signature does not verify for this request and keyid ${JSON.stringify(p.keyid)}`);
    }
    return { ok: true, nonce: p.nonce ?? '' };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, code: err.code, reason: err.message };
    if (err instanceof HTTPSigError) return { ok: false, code: CODES.malformed, reason: err.message };
    throw err;
  }
}
