// sign.js: CityID transactions made and signed in the browser, byte for
// byte as the CLI and the Go client make them (registry.NewBody,
// registry.Sign, Envelope.Encode): the same body, the same
// pre-authentication encoding, the same envelope. The keys are WebCrypto
// Ed25519 keys and never leave the browser; nothing here sends anything.
// internal/web/sign_test.go holds every function to Go's bytes.

import { MESSAGES } from './messages.js';
import { toHex, toBase64 } from './keys.js';

const utf8 = new TextEncoder();

// SignError is every refusal here: what is wrong, and where.
export class SignError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SignError';
  }
}

// The wire's default TTL of a value (registry.DefaultTTL).
const DEFAULT_TTL = 86400;

// quote writes s as Go's encoding/json writes a string with HTML escaping
// off (what the registry's bodies use): '"' and '\' escaped, \b \f \n \r
// \t, other control characters as \u00XX, U+2028 and U+2029 escaped, a
// lone surrogate as U+FFFD. With jcs, as encoding/json/v2's jsontext
// quotes (RFC 8785), which leaves U+2028 and U+2029 as they are:
// register_batch's wire form writes its strings so.
export function quote(s, jcs = false) {
  if (typeof s !== 'string') throw new SignError(`expected a string, got ${typeof s}`);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20) {
      switch (c) {
        case 0x08: out += '\\b'; break;
        case 0x0c: out += '\\f'; break;
        case 0x0a: out += '\\n'; break;
        case 0x0d: out += '\\r'; break;
        case 0x09: out += '\\t'; break;
        default: out += '\\u00' + c.toString(16).padStart(2, '0');
      }
    } else if ((c === 0x2028 || c === 0x2029) && !jcs) {
      out += '\\u' + c.toString(16);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i] + s[i + 1];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\ufffd';
    } else {
      out += s[i];
    }
  }
  return out + '"';
}

// integer writes n (a number, a bigint or a string of digits) in
// decimal, refusing what is no integer of the field's range.
function integer(n, unsigned, where) {
  let v;
  if (typeof n === 'bigint') v = n;
  else if (typeof n === 'number' && Number.isSafeInteger(n)) v = BigInt(n);
  else if (typeof n === 'string' && /^-?(0|[1-9][0-9]*)$/.test(n)) v = BigInt(n);
  else throw new SignError(`${where}: ${JSON.stringify(String(n))} is not an integer`);
  const max = unsigned ? (1n << 64n) - 1n : (1n << 63n) - 1n;
  const min = unsigned ? 0n : -(1n << 63n);
  if (v < min || v > max) throw new SignError(`${where}: ${v} is out of range`);
  return v.toString();
}

// empty is encoding/json's omitempty test for a value of type desc.
function empty(desc, v) {
  if (v === undefined || v === null) return true;
  switch (Array.isArray(desc) ? desc[0] : desc) {
    case 'string': return v === '';
    case 'bool': return v === false;
    case 'int': case 'uint': return v === 0 || v === 0n || v === '0';
    case 'list': return v.length === 0;
    default: return false; // structs (and so times) are never empty
  }
}

// encode writes v as the Go type desc describes (messages.js).
function encode(desc, v, where) {
  if (Array.isArray(desc)) {
    switch (desc[0]) {
      case 'list':
        if (v === undefined || v === null) return 'null';
        if (!Array.isArray(v)) throw new SignError(`${where}: expected a list`);
        return '[' + v.map((x, i) => encode(desc[1], x, `${where}[${i}]`)).join(',') + ']';
      case 'ptr':
        return v === undefined || v === null ? 'null' : encode(desc[1], v, where);
      case 'object': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SignError(`${where}: expected an object`);
        const known = new Set(desc[1].map((f) => f[0]));
        for (const k of Object.keys(v)) {
          if (!known.has(k)) throw new SignError(`${where}: no field ${JSON.stringify(k)}`);
        }
        const parts = [];
        for (const [name, type, omitempty] of desc[1]) {
          const x = v[name];
          if (omitempty && empty(type, x)) continue;
          parts.push(quote(name) + ':' + encode(type, x, where ? `${where}.${name}` : name));
        }
        return '{' + parts.join(',') + '}';
      }
    }
  }
  switch (desc) {
    case 'string': case 'time':
      return quote(v === undefined || v === null ? (desc === 'time' ? '0001-01-01T00:00:00Z' : '') : v);
    case 'bool':
      if (v === undefined || v === null) return 'false';
      if (typeof v !== 'boolean') throw new SignError(`${where}: expected true or false`);
      return String(v);
    case 'int': case 'uint':
      return v === undefined || v === null ? '0' : integer(v, desc === 'uint', where);
    case 'batch':
      return encodeBatch(v, where);
  }
  throw new SignError(`${where}: unknown type ${JSON.stringify(desc)}`);
}

// encodeBatch writes a register_batch message ({entries: [{id, values,
// admins}]}) in its wire form, as registry.RegisterBatch.MarshalJSON
// does: entries grouped by node (the text before an identifier's first
// '/', which must be in canonical form: the portal checks identifiers
// before it signs), the groups in the order of their node's first entry;
// a group's admins when all its entries name the same; each value as a
// pair [type, data] when it has no dataset, the default TTL and its
// position as its index.
function encodeBatch(m, where) {
  const entries = m && m.entries;
  if (!Array.isArray(entries)) throw new SignError(`${where}: expected {entries: [...]}`);
  const groups = batchGroups(entries);
  const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const strings = (list) => '[' + list.map((s) => quote(s, true)).join(',') + ']';
  const out = groups.map((g) => {
    const first = g.entries[0].e.admins || [];
    const shared = first.length > 0 && g.entries.every(({ e }) => sameList(e.admins || [], first)) ? first : null;
    let s = '{"node":' + quote(g.node, true);
    if (shared) s += ',"admins":' + strings(shared);
    s += ',"entries":[' + g.entries.map(({ e, i, local }) => {
      const values = e.values || [];
      const noneIndexed = values.every((v) => !v.index);
      const vs = values.map((v, k) => {
        const index = noneIndexed ? k + 1 : Number(v.index || 0);
        const ttl = v.ttl === undefined || v.ttl === null ? 0 : Number(v.ttl);
        if (!v.dataset && (ttl === 0 || ttl === DEFAULT_TTL) && index === k + 1) {
          return '[' + quote(v.type || '', true) + ',' + quote(v.data || '', true) + ']';
        }
        return encode(MESSAGES.register[1][2][1][1], { ...v, index }, `entry ${i + 1} value ${k + 1}`);
      });
      let entry = '[' + quote(local, true) + ',[' + vs.join(',') + ']';
      if (!shared && e.admins && e.admins.length > 0) entry += ',' + strings(e.admins);
      return entry + ']';
    }).join(',') + ']}';
    return s;
  });
  return '{"nodes":[' + out.join(',') + ']}';
}

// batchGroups groups a batch's entries by node as they travel.
function batchGroups(entries) {
  const groups = [];
  const byNode = new Map();
  entries.forEach((e, i) => {
    const id = e && e.id;
    const slash = typeof id === 'string' ? id.indexOf('/') : -1;
    if (slash < 0) throw new SignError(`entry ${i + 1}: a batch registers objects, <node>/<local-id>`);
    const node = id.slice(0, slash);
    if (!byNode.has(node)) {
      byNode.set(node, groups.length);
      groups.push({ node, entries: [] });
    }
    groups[byNode.get(node)].entries.push({ e, i, local: id.slice(slash + 1) });
  });
  return groups;
}

// batchOrder is the order in which a batch's entries travel: for each
// position on the wire, the entry's index in entries. A refusal's
// "entry N" counts in this order.
export function batchOrder(entries) {
  return batchGroups(entries).flatMap((g) => g.entries.map(({ i }) => i));
}

// encodeMessage is the JSON of kind's message msg, as registry.NewBody
// writes it.
export function encodeMessage(kind, msg) {
  const desc = MESSAGES[kind];
  if (!desc) throw new SignError(`no transaction kind ${JSON.stringify(kind)}`);
  return encode(desc, msg, '');
}

// encodeBody is a transaction's body (registry.NewBodyUntil): kind, the
// signer's next nonce, the last height that may hold it (0: any), msg.
export function encodeBody(kind, nonce, msg, validUntilHeight = 0) {
  let s = '{"kind":' + quote(kind) + ',"nonce":' + integer(nonce, true, 'nonce');
  if (!empty('uint', validUntilHeight)) s += ',"valid_until_height":' + integer(validUntilHeight, true, 'valid_until_height');
  return utf8.encode(s + ',"msg":' + encodeMessage(kind, msg) + '}');
}

// pae is the pre-authentication encoding that is signed (registry.PAE):
// "CITYIDv1" SP LEN(chainID) SP chainID SP LEN(body) SP body.
export function pae(chainID, body) {
  const id = utf8.encode(chainID);
  const head = utf8.encode(`CITYIDv1 ${id.length} ${chainID} ${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

// signTx signs body for chainID with key ({privateKey, publicKey} of
// WebCrypto's Ed25519, as keys.js keeps them) and returns the
// transaction's bytes (Envelope.Encode) and its hash as CometBFT and the
// API name it (uppercase hex SHA-256).
export async function signTx(chainID, body, key) {
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', key.publicKey));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, pae(chainID, body)));
  const tx = utf8.encode(`{"body":"${toBase64(body)}","pub_key":"${toHex(pub)}","signature":"${toBase64(sig)}"}`);
  const hash = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', tx))).toUpperCase();
  return { tx, hash };
}

// TxRefused is a transaction the node did not commit: its problem's code
// (a registry code such as "invalid_id" or "version_conflict", or
// "timeout" when it waits in the mempool), its detail, and its hash.
export class TxRefused extends Error {
  constructor(problem, status, hash) {
    super(problem.detail || `HTTP ${status}`);
    this.name = 'TxRefused';
    this.code = problem.code || `http_${status}`;
    this.status = status;
    this.hash = problem.hash || hash;
    this.problem = problem;
  }
}

// sendTx signs kind's message msg with key (its public half pubKey, hex)
// at the account's next nonce and sends it to the node at base (its HTTP
// API; "" for the page's own origin), waiting for its block as POST
// /v1/txs does. It returns the node's answer ({hash, height, result}) and
// throws TxRefused with the node's problem when it is refused or not
// committed in time. onSigned(hash), when given, is told the hash before
// it is sent, for a caller that must find the transaction again after a
// failure of its own.
export async function sendTx({ base = '', chainID, key, pubKey, kind, msg, validUntilHeight = 0, onSigned = () => {} }) {
  const acct = await fetch(`${base}/v1/accounts/${pubKey}`);
  const account = await acct.json().catch(() => ({}));
  if (!acct.ok) throw new TxRefused(account, acct.status, '');
  const body = encodeBody(kind, account.next_nonce, msg, validUntilHeight);
  const { tx, hash } = await signTx(chainID, body, key);
  onSigned(hash);
  const resp = await fetch(`${base}/v1/txs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: tx });
  const answer = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new TxRefused(answer, resp.status, hash);
  return answer;
}
