// verify.js — the browser's verifier of a CityID answer. It checks, with
// no help from the node that answered:
//   1. the ICS23 proof (existence, or absence) of the record's exact bytes
//      against an app hash, as cosmos/ics23's IavlSpec checks it (and in the
//      order package verify checks it, so failures have the same reason);
//   2. CometBFT v1 light blocks as GET /v1/light/{h} sends them: the header
//      hash (a Merkle root of its proto-encoded fields), the validator set
//      hash, and the commit's Ed25519 signatures over CanonicalVote bytes;
//   3. the light client's rules (light.VerifyAdjacent / VerifyNonAdjacent,
//      and the light client's bisection): from a trusted header, adjacent by
//      the next validators hash, or skipping where more than 1/3 of the
//      trusted power signed, within the trusting period; the answer read at
//      H proved against header H+1.
// It trusts only what its caller gives it: the trust root (chain ID,
// height, header hash) and the clock. Every failure is a VerifyError whose
// reason is one of REASONS; internal/web/testdata/vectors hold it to Go's
// verdicts (CometBFT's and ics23's own code), reason for reason.
// Plain ES module, no dependencies: hashes and signatures are WebCrypto's.

/** The classes of failure, stable: the portal maps them to words. */
export const REASONS = [
  'malformed', 'wrong_type', 'wrong_kind', 'not_iavl', 'root_mismatch', 'key_mismatch', 'value_mismatch',
  'wrong_id', 'record_mismatch', 'app_hash', 'height', 'trust_root',
  'chain_id', 'header_invalid', 'header_hash', 'header_time', 'commit_invalid', 'validators', 'next_validators',
  'signature', 'not_enough_power', 'trust_level', 'expired',
];

/** A check that failed: reason says which (one of REASONS), message why. */
export class VerifyError extends Error {
  constructor(reason, message) {
    super(`${reason}: ${message}`);
    this.name = 'VerifyError';
    this.reason = reason;
  }
}

const fail = (reason, message) => { throw new VerifyError(reason, message); };

// ---- bytes -----------------------------------------------------------------

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
}

function equal(a, b) {
  a = a || EMPTY; b = b || EMPTY;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// compare is Go's bytes.Compare.
function compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1);
}

const startsWith = (b, p) => b.length >= p.length && equal(b.subarray(0, p.length), p);

export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 || /[^0-9a-fA-F]/.test(s)) fail('malformed', 'not hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

export const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();

export function fromBase64(s) {
  if (s == null) return EMPTY;
  // Padded standard base64 only, as Go's base64.StdEncoding (atob takes more).
  if (typeof s !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) fail('malformed', 'not base64');
  let bin;
  try { bin = atob(s); } catch { fail('malformed', 'not base64'); }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function parseJSON(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { fail('malformed', 'not JSON'); }
}

const sha = async (name, b) => new Uint8Array(await crypto.subtle.digest(name, b));
const sha256 = (b) => sha('SHA-256', b);

// ---- protobuf ----------------------------------------------------------------

// Writing, as gogoproto's Marshal writes: proto3 fields at their zero value
// are left out, except where a message is non-nullable (noted).
function uvarint(v) {
  v = BigInt.asUintN(64, BigInt(v));
  const out = [];
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return Uint8Array.from(out);
}
const key = (field, wire) => uvarint((field << 3) | wire);
const pbVarint = (f, v) => (BigInt(v) === 0n ? EMPTY : concat(key(f, 0), uvarint(v)));
const pbBytes = (f, b) => (b.length ? concat(key(f, 2), uvarint(b.length), b) : EMPTY);
const pbMsg = (f, b) => concat(key(f, 2), uvarint(b.length), b); // written even when empty
function pbSfixed64(f, v) {
  if (v === 0n) return EMPTY;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, v, true);
  return concat(key(f, 1), b);
}

// Reading, as gogoproto's generated Unmarshal reads (so that bytes it
// refuses are refused here, and bytes it takes are taken alike): a schema
// maps field numbers to [name, kind, schema?]; kind is 'bytes', 'enum',
// 'msg' (merged when repeated, as gogo merges a non-oneof message), 'one'
// (a oneof member, replaced), 'rep' (repeated message), 'ints' (repeated
// int32, packed or not).
function readVarint(d, p) {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    if (shift >= 64n) fail('malformed', 'varint overflow');
    if (p.i >= d.length) fail('malformed', 'unexpected end');
    const b = d[p.i++];
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asUintN(64, v);
  }
}

function readLength(d, p) {
  const n = BigInt.asIntN(64, readVarint(d, p));
  if (n < 0n) fail('malformed', 'negative length');
  if (BigInt(p.i) + n > BigInt(d.length)) fail('malformed', 'unexpected end');
  return Number(n);
}

// skip is gogo's skipProofs: the length of the unknown field at d[i:].
function skip(d, i) {
  const p = { i };
  let depth = 0;
  while (p.i < d.length) {
    const wire = Number(readVarint(d, p) & 7n);
    if (wire === 0) readVarint(d, p);
    else if (wire === 1) p.i += 8;
    else if (wire === 2) {
      const n = BigInt.asIntN(64, readVarint(d, p));
      if (n < 0n) fail('malformed', 'negative length');
      p.i += Number(n > BigInt(d.length) ? BigInt(d.length) + 1n : n);
    } else if (wire === 3) depth++;
    else if (wire === 4) { if (depth === 0) fail('malformed', 'unexpected end of group'); depth--; }
    else if (wire === 5) p.i += 4;
    else fail('malformed', `illegal wire type ${wire}`);
    if (depth === 0) return p.i;
  }
  fail('malformed', 'unexpected end');
}

function decode(d, schema, m = {}) {
  const p = { i: 0 };
  while (p.i < d.length) {
    const start = p.i;
    const tag = readVarint(d, p);
    const field = Number(BigInt.asIntN(32, tag >> 3n));
    const wire = Number(tag & 7n);
    if (wire === 4) fail('malformed', 'end group for non-group');
    if (field <= 0) fail('malformed', `illegal tag ${field}`);
    const f = schema[field];
    if (!f) {
      const end = skip(d, start);
      if (end > d.length) fail('malformed', 'unexpected end');
      p.i = end;
      continue;
    }
    const [name, kind, sub] = f;
    if (kind === 'enum') {
      if (wire !== 0) fail('malformed', `wrong wire type ${wire} for ${name}`);
      m[name] = Number(BigInt.asIntN(32, readVarint(d, p)));
      continue;
    }
    if (kind === 'ints') {
      (m[name] ||= []);
      if (wire === 0) { m[name].push(Number(BigInt.asIntN(32, readVarint(d, p)))); continue; }
      if (wire !== 2) fail('malformed', `wrong wire type ${wire} for ${name}`);
      const end = p.i + readLength(d, p);
      while (p.i < end) m[name].push(Number(BigInt.asIntN(32, readVarint(d, p))));
      continue;
    }
    if (wire !== 2) fail('malformed', `wrong wire type ${wire} for ${name}`);
    const n = readLength(d, p);
    const body = d.subarray(p.i, p.i + n);
    p.i += n;
    if (kind === 'bytes') m[name] = body.slice();
    else if (kind === 'msg') m[name] = decode(body, sub, m[name] || {});
    else if (kind === 'rep') (m[name] ||= []).push(decode(body, sub));
    else { for (const k of sub.members) delete m[k]; m[name] = decode(body, sub); } // 'one'
  }
  return m;
}

// cosmos/ics23's proofs.proto.
const LEAF = { 1: ['hash', 'enum'], 2: ['prehashKey', 'enum'], 3: ['prehashValue', 'enum'], 4: ['length', 'enum'], 5: ['prefix', 'bytes'] };
const INNER = { 1: ['hash', 'enum'], 2: ['prefix', 'bytes'], 3: ['suffix', 'bytes'] };
const EXIST = { 1: ['key', 'bytes'], 2: ['value', 'bytes'], 3: ['leaf', 'msg', LEAF], 4: ['path', 'rep', INNER] };
const NONEXIST = { 1: ['key', 'bytes'], 2: ['left', 'msg', EXIST], 3: ['right', 'msg', EXIST] };
const CEXIST = { 1: ['key', 'bytes'], 2: ['value', 'bytes'], 3: ['leaf', 'msg', LEAF], 4: ['path', 'ints'] };
const CNONEXIST = { 1: ['key', 'bytes'], 2: ['left', 'msg', CEXIST], 3: ['right', 'msg', CEXIST] };
const oneof = (fields) => {
  const members = Object.values(fields).map((f) => f[0]);
  const s = {};
  for (const [n, [name, sub]] of Object.entries(fields)) s[n] = [name, 'one', Object.assign({ members }, sub)];
  return s;
};
const ENTRY = oneof({ 1: ['exist', EXIST], 2: ['nonexist', NONEXIST] });
const CENTRY = oneof({ 1: ['exist', CEXIST], 2: ['nonexist', CNONEXIST] });
const COMMITMENT = oneof({
  1: ['exist', EXIST], 2: ['nonexist', NONEXIST],
  3: ['batch', { 1: ['entries', 'rep', ENTRY] }],
  4: ['compressed', { 1: ['entries', 'rep', CENTRY], 2: ['lookupInners', 'rep', INNER] }],
});

// ---- ICS23 over IAVL ---------------------------------------------------------

export const PROOF_TYPE = 'ics23:iavl';

// Hash and length operations. ics23 also knows RIPEMD160, BITCOIN and
// SHA512_256, which WebCrypto lacks; a proof that uses them cannot pass the
// IAVL spec (SHA-256 only), so it fails here as not_iavl where Go may first
// find its root wrong (root_mismatch): the verdict is the same.
const SHA256 = 1, SHA512 = 2, VAR_PROTO = 1;

async function doHash(op, data) {
  if (op === SHA256) return sha256(data);
  if (op === SHA512) return sha('SHA-512', data);
  throw new Error(`unsupported hash op ${op}`);
}

function doLength(op, data) {
  switch (op) {
    case 0: return data;
    case VAR_PROTO: return concat(uvarint(data.length), data);
    case 4: { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, data.length, true); return concat(b, data); }
    case 7: if (data.length !== 32) throw new Error('not 32 bytes'); return data;
    case 8: if (data.length !== 64) throw new Error('not 64 bytes'); return data;
  }
  throw new Error(`unsupported length op ${op}`);
}

const leafOf = (l) => ({ hash: 0, prehashKey: 0, prehashValue: 0, length: 0, prefix: EMPTY, ...l });
const innerOf = (s) => ({ hash: 0, prefix: EMPTY, suffix: EMPTY, ...s });

// calculate is ExistenceProof.Calculate: the root the proof leads to.
async function calculate(e) {
  if (!e.leaf) throw new Error('existence proof needs a leaf op');
  const leaf = leafOf(e.leaf);
  const k = e.key || EMPTY, v = e.value || EMPTY;
  if (!k.length) throw new Error('leaf op needs key');
  if (!v.length) throw new Error('leaf op needs value');
  const prep = async (op, b) => doLength(leaf.length, op === 0 ? b : await doHash(op, b));
  let res = await doHash(leaf.hash, concat(leaf.prefix, await prep(leaf.prehashKey, k), await prep(leaf.prehashValue, v)));
  for (const s of e.path || []) {
    const step = innerOf(s);
    if (!res.length) throw new Error('inner op needs child value');
    res = await doHash(step.hash, concat(step.prefix, res, step.suffix));
  }
  return res;
}

// readVarintSigned is Go's binary.ReadVarint (zig-zag) over b at p.
function readVarintSigned(b, p) {
  let x = 0n;
  for (let i = 0, s = 0n; i < 10; i++, s += 7n) {
    if (p.i >= b.length) throw new Error('short varint');
    const c = b[p.i++];
    if (c < 0x80) {
      if (i === 9 && c > 1) throw new Error('varint overflow');
      x |= BigInt(c) << s;
      return (x & 1n) ? ~(x >> 1n) : (x >> 1n);
    }
    x |= BigInt(c & 0x7f) << s;
  }
  throw new Error('varint overflow');
}

// iavlOp is ics23's validateIavlOps: an IAVL node's prefix holds its
// height (at least its layer), size and version, then nothing (a leaf) or
// the length byte of the left child (an inner node).
function iavlOp(op, layer) {
  const p = { i: 0 };
  const vals = [0, 1, 2].map(() => readVarintSigned(op.prefix, p));
  // Go checks int(v) < 0 on 64-bit ints.
  if (vals.some((v) => BigInt.asIntN(64, v) < 0n)) throw new Error('wrong value in IAVL op');
  if (vals[0] < BigInt(layer)) throw new Error('wrong value in IAVL op');
  const rest = op.prefix.length - p.i;
  if (layer === 0) { if (rest !== 0) throw new Error('invalid op'); }
  else {
    if (!(rest === 1 || rest === 34)) throw new Error('invalid op');
    if (op.hash !== SHA256) throw new Error('invalid op');
  }
}

// IavlSpec: leaf prefix 0x00; inner prefix 4..12 bytes (+33 for a left
// child), suffix whole 33-byte children, SHA-256 throughout.
const CHILD = 33, MIN_PREFIX = 4, MAX_PREFIX = 12;

function checkSpec(e) {
  if (!e.leaf) throw new Error('existence proof needs a leaf op');
  const leaf = leafOf(e.leaf);
  iavlOp(leaf, 0);
  if (leaf.hash !== SHA256 || leaf.prehashKey !== 0 || leaf.prehashValue !== SHA256 || leaf.length !== VAR_PROTO) {
    throw new Error('leaf op is not IAVL\'s');
  }
  if (!startsWith(leaf.prefix, Uint8Array.of(0))) throw new Error('leaf prefix does not start with 00');
  (e.path || []).forEach((s, i) => {
    const step = innerOf(s);
    if (step.hash !== SHA256) throw new Error('inner op is not SHA-256');
    iavlOp(step, i + 1);
    if (startsWith(step.prefix, Uint8Array.of(0))) throw new Error('inner prefix starts with 00');
    if (step.prefix.length < MIN_PREFIX) throw new Error('inner prefix too short');
    if (step.prefix.length > MAX_PREFIX + CHILD) throw new Error('inner prefix too long');
    if (step.suffix.length % CHILD) throw new Error('inner suffix malformed');
  });
}

// verifyExist is ExistenceProof.Verify(IavlSpec, root, key, value).
async function verifyExist(e, root, k, v) {
  checkSpec(e);
  if (!equal(k, e.key) || !equal(v, e.value)) throw new Error('key or value does not match the proof');
  const calc = await calculate(e);
  if (!equal(calc, root)) throw new Error('calculated root does not match');
}

// Branch 0 (left) is padded prefix 4..12, suffix 33; branch 1 (right)
// prefix 37..45, suffix 0. IAVL has no empty child, so a step whose
// padding fits neither is neither left- nor right-most.
const padding = (branch) => [branch * CHILD + MIN_PREFIX, branch * CHILD + MAX_PREFIX, (1 - branch) * CHILD];
function hasPadding(s, [min, max, suffix]) {
  s = innerOf(s);
  return s.prefix.length >= min && s.prefix.length <= max && s.suffix.length === suffix;
}
const order = (s) => [0, 1].find((b) => hasPadding(s, padding(b)));
const leftMost = (path) => path.every((s) => hasPadding(s, padding(0)));
const rightMost = (path) => path.every((s) => hasPadding(s, padding(1)));

function leftNeighbor(left, right) {
  left = [...left]; right = [...right];
  let tl = left.pop(), tr = right.pop();
  while (tl && tr && equal(innerOf(tl).prefix, innerOf(tr).prefix) && equal(innerOf(tl).suffix, innerOf(tr).suffix)) {
    tl = left.pop(); tr = right.pop();
  }
  // ics23 panics where a path runs out or a step fits no branch; here it
  // is a failure like any other.
  if (!tl || !tr) return false;
  const li = order(tl), ri = order(tr);
  if (li === undefined || ri === undefined) return false;
  return ri === li + 1 && rightMost(left) && leftMost(right);
}

// verifyNonExist is NonExistenceProof.Verify(IavlSpec, root, key).
async function verifyNonExist(n, root, k) {
  const { left, right } = n;
  if (left) await verifyExist(left, root, left.key, left.value);
  if (right) await verifyExist(right, root, right.key, right.value);
  if (!left && !right) throw new Error('both left and right proofs missing');
  if (right && compare(k, right.key || EMPTY) >= 0) throw new Error('key is not left of right proof');
  if (left && compare(k, left.key || EMPTY) <= 0) throw new Error('key is not right of left proof');
  if (!left) { if (!leftMost(right.path || [])) throw new Error('right proof must be left-most'); }
  else if (!right) { if (!rightMost(left.path || [])) throw new Error('left proof must be right-most'); }
  else if (!leftNeighbor(left.path || [], right.path || [])) throw new Error('left and right proofs are not neighbours');
}

const spec = async (f) => { try { await f(); } catch (e) { if (e instanceof VerifyError) throw e; fail('not_iavl', e.message); } };

async function rootOf(e) {
  let calc;
  await spec(async () => { calc = await calculate(e); });
  return calc;
}

/**
 * verifyProof checks an ICS23 proof as package verify does: type is the
 * proof's type, root the app hash, key and value bytes (value absent for a
 * proof of absence), proof the protobuf CommitmentProof.
 */
export async function verifyProof({ type, root, key: k, value, proof, absent }) {
  if (type !== PROOF_TYPE) fail('wrong_type', `proof type ${JSON.stringify(type)}, want ${PROOF_TYPE}`);
  const p = decode(proof || EMPTY, COMMITMENT);
  k = k || EMPTY;
  if (absent) {
    const n = p.nonexist;
    if (!n) fail('wrong_kind', 'want a non-existence proof');
    if (!equal(n.key, k)) fail('key_mismatch', 'the proof is about another key');
    for (const e of [n.left, n.right]) {
      if (e && !equal(await rootOf(e), root)) fail('root_mismatch', 'the proof leads to another root than the app hash');
    }
    await spec(() => verifyNonExist(n, root, k));
    return;
  }
  const e = p.exist;
  if (!e) fail('wrong_kind', 'want an existence proof');
  if (!equal(e.key, k)) fail('key_mismatch', 'the proof is about another key');
  if (!equal(e.value, value)) fail('value_mismatch', 'the proof proves another value');
  if (!equal(await rootOf(e), root)) fail('root_mismatch', 'the proof leads to another root than the app hash');
  await spec(() => verifyExist(e, root, k, value || EMPTY));
}

// ---- CometBFT light blocks ---------------------------------------------------

const BLOCK_PROTOCOL = 11n;
const MAX_CHAIN_ID = 50;
const ADDRESS_SIZE = 20, HASH_SIZE = 32, MAX_SIGNATURE = 96;
const FLAG_ABSENT = 1, FLAG_COMMIT = 2, FLAG_NIL = 3;
const ZERO_TIME = -62135596800n; // Go's zero time, 0001-01-01T00:00:00Z

// parseTime reads RFC 3339 in UTC with nanoseconds into {s, n} (Date keeps
// only milliseconds; the signed bytes keep nanoseconds).
export function parseTime(s) {
  const m = typeof s === 'string' && /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) fail('malformed', `time ${JSON.stringify(s)}`);
  const d = new Date(0);
  d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
  d.setUTCHours(+m[4], +m[5], +m[6], 0);
  // Date rolls 30 February over into March; Go refuses it.
  if (d.getUTCFullYear() !== +m[1] || d.getUTCMonth() !== m[2] - 1 || d.getUTCDate() !== +m[3] || d.getUTCHours() !== +m[4]
    || d.getUTCMinutes() !== +m[5] || d.getUTCSeconds() !== +m[6]) fail('malformed', `time ${s} out of range`);
  return { s: BigInt(d.getTime() / 1000), n: Number((m[7] || '').slice(0, 9).padEnd(9, '0')) }; // digits past 9 dropped, as Go drops them
}
const nanos = (t) => t.s * 1000000000n + BigInt(t.n);
const SECOND = 1000000000n;

// The light client's settings when the caller gives none: client's
// DefaultTrustingPeriod (14 days), CometBFT's clock drift (10 s) and
// trust level (1/3).
export const DEFAULTS = { trustingPeriod: 14 * 24 * 3600, maxClockDrift: 10, trustLevel: [1, 3] };
// whole reads a caller's integer (seconds, a height): a safe integer, or
// a decimal string.
const whole = (v, what) => {
  if (Number.isSafeInteger(v) || (typeof v === 'string' && /^-?\d{1,19}$/.test(v))) return BigInt(v);
  fail('malformed', `${what} is not an integer`);
};
const setting = (opts, name) => {
  const v = opts[name] ?? DEFAULTS[name];
  return name === 'trustLevel' ? (Array.isArray(v) && v.length === 2 ? v.map((x) => whole(x, name)) : fail('malformed', name)) : whole(v, name);
};
function clock({ now }) {
  if (now instanceof Date && !Number.isNaN(now.getTime())) return parseTime(now.toISOString());
  if (typeof now?.s === 'bigint' && Number.isInteger(now?.n)) return now;
  fail('malformed', 'now is neither a Date nor a parsed time');
}
const timeText = (t) => {
  const d = new Date(Number(t.s) * 1000 + Math.floor(t.n / 1e6));
  return Number.isNaN(d.getTime()) ? `${t.s} s after 1970` : d.toISOString();
};
const timestamp = (t) => concat(pbVarint(1, t.s), pbVarint(2, t.n));

// Reading CometBFT's JSON as its decoder (libs/json) reads it, so that
// what it refuses is refused here: 64-bit integers as decimal strings,
// smaller ones as numbers in range, bytes as hex or base64 strings,
// objects where Go has structs, times in UTC ending in Z; null is Go's
// zero value.
const is = (v, type) => v == null || (type === 'array' ? Array.isArray(v) : typeof v === type && !Array.isArray(v));
const obj = (v, what) => (is(v, 'object') ? v || {} : fail('malformed', `${what} is not an object`));
const str = (v, what) => (is(v, 'string') ? v ?? '' : fail('malformed', `${what} is not a string`));
const arr = (v, what) => (is(v, 'array') ? v || [] : fail('malformed', `${what} is not an array`));
function bigint(v, what, bits, signed) {
  if (v == null) return 0n;
  if (!(typeof v === 'string' && /^-?(0|[1-9]\d*)$/.test(v))) fail('malformed', `${what} is not an integer string`);
  const b = BigInt(v);
  if ((signed ? BigInt.asIntN(bits, b) : BigInt.asUintN(bits, b)) !== b) fail('malformed', `${what} is out of range`);
  return b;
}
const int64 = (v, what) => bigint(v, what, 64, true);
const uint64 = (v, what) => bigint(v, what, 64, false);
function small(v, what, min, max) {
  if (v == null) return 0;
  return Number.isInteger(v) && v >= min && v <= max ? v : fail('malformed', `${what} is not an integer in range`);
}
const hexOf = (v, what = 'a hash') => (str(v, what) === '' ? EMPTY : fromHex(v));
function blockID(v, what) {
  const b = obj(v, what), parts = obj(b.parts, `${what} parts`);
  return { hash: hexOf(b.hash, what), total: small(parts.total, 'parts total', 0, 2 ** 32 - 1), partsHash: hexOf(parts.hash, what) };
}

function parseValidator(v, what) {
  v = obj(v, what);
  const key = obj(v.pub_key, `${what} key`);
  int64(v.proposer_priority, 'proposer priority'); // not verified, but read as Go reads it
  return { address: hexOf(v.address, what), keyType: str(key.type, 'key type'), pubKey: fromBase64(str(key.value, 'key')), power: int64(v.voting_power, 'voting power') };
}

/** parseLightBlock reads a light block in CometBFT's JSON, unchecked. */
export function parseLightBlock(json) {
  const lb = obj(parseJSON(json), 'light block');
  const sh = obj(lb.signed_header, 'signed header');
  if (sh.header == null || sh.commit == null || lb.validator_set == null) fail('malformed', 'missing header, commit or validator set');
  const h = obj(sh.header, 'header'), c = obj(sh.commit, 'commit'), vs = obj(lb.validator_set, 'validator set'), ver = obj(h.version, 'version');
  return {
    header: {
      version: { block: uint64(ver.block, 'version'), app: uint64(ver.app, 'version') },
      chainId: str(h.chain_id, 'chain ID'), height: int64(h.height, 'height'), time: h.time == null ? { s: ZERO_TIME, n: 0 } : parseTime(h.time),
      lastBlockId: blockID(h.last_block_id, 'last block ID'), lastCommitHash: hexOf(h.last_commit_hash), dataHash: hexOf(h.data_hash),
      validatorsHash: hexOf(h.validators_hash), nextValidatorsHash: hexOf(h.next_validators_hash),
      consensusHash: hexOf(h.consensus_hash), appHash: hexOf(h.app_hash), lastResultsHash: hexOf(h.last_results_hash),
      evidenceHash: hexOf(h.evidence_hash), proposerAddress: hexOf(h.proposer_address),
    },
    commit: {
      height: int64(c.height, 'commit height'), round: small(c.round, 'round', -(2 ** 31), 2 ** 31 - 1), blockId: blockID(c.block_id, 'block ID'),
      signatures: arr(c.signatures, 'signatures').map((x) => {
        const s = obj(x, 'commit signature');
        return {
          flag: small(s.block_id_flag, 'block ID flag', 0, 255), address: hexOf(s.validator_address),
          time: s.timestamp == null ? { s: ZERO_TIME, n: 0 } : parseTime(s.timestamp), signature: fromBase64(str(s.signature, 'signature')),
        };
      }),
    },
    validators: arr(vs.validators, 'validators').map((v, i) => parseValidator(v, `validator ${i}`)),
    proposer: vs.proposer == null ? null : parseValidator(vs.proposer, 'proposer'),
  };
}

// merkleRoot is CometBFT's merkle.HashFromByteSlices (RFC 6962 shape).
async function merkleRoot(items) {
  if (items.length === 0) return sha256(EMPTY);
  if (items.length === 1) return sha256(concat(Uint8Array.of(0), items[0]));
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  return sha256(concat(Uint8Array.of(1), await merkleRoot(items.slice(0, k)), await merkleRoot(items.slice(k))));
}

const blockIDBytes = (b) => concat(pbBytes(1, b.hash), pbMsg(2, concat(pbVarint(1, b.total), pbBytes(2, b.partsHash))));
const isNilID = (b) => !b.hash.length && b.total === 0 && !b.partsHash.length;

/** headerHash is Header.Hash: the Merkle root of its proto-encoded fields. */
export async function headerHash(h) {
  if (!h.validatorsHash.length) return EMPTY; // as Go's, which returns nil
  const bytesValue = (b) => pbBytes(1, b); // gogotypes.BytesValue
  return merkleRoot([
    concat(pbVarint(1, h.version.block), pbVarint(2, h.version.app)),
    pbBytes(1, enc.encode(h.chainId)), // StringValue
    pbVarint(1, h.height), // Int64Value
    timestamp(h.time),
    blockIDBytes(h.lastBlockId),
    ...[h.lastCommitHash, h.dataHash, h.validatorsHash, h.nextValidatorsHash, h.consensusHash, h.appHash,
      h.lastResultsHash, h.evidenceHash, h.proposerAddress].map(bytesValue),
  ]);
}

const ED25519 = 'tendermint/PubKeyEd25519';

/** validatorsHash is ValidatorSet.Hash: the Merkle root of SimpleValidators. */
export async function validatorsHash(vals) {
  return merkleRoot(vals.map((v) => concat(pbMsg(1, pbMsg(1, v.pubKey)), pbVarint(2, v.power))));
}

async function checkValidator(v, what) {
  if (v.keyType !== ED25519) fail('validators', `${what}: unsupported key type ${v.keyType}`);
  if (v.power < 0n) fail('validators', `${what}: negative voting power`);
  if (!equal(v.address, (await sha256(v.pubKey)).subarray(0, ADDRESS_SIZE))) fail('validators', `${what}: address is not its key's`);
}

/** voteSignBytes is Commit.VoteSignBytes: the length-delimited CanonicalVote. */
export function voteSignBytes(chainId, commit, i) {
  const s = commit.signatures[i];
  const id = s.flag === FLAG_COMMIT ? commit.blockId : blockID(null);
  const vote = concat(
    pbVarint(1, 2), // SIGNED_MSG_TYPE_PRECOMMIT
    pbSfixed64(2, commit.height),
    pbSfixed64(3, BigInt(commit.round)),
    isNilID(id) ? EMPTY : pbMsg(4, blockIDBytes(id)), // CanonicalBlockID has the same fields
    pbMsg(5, timestamp(s.time)), // non-nullable
    pbBytes(6, enc.encode(chainId)),
  );
  return concat(uvarint(vote.length), vote);
}

// verifyEd25519 checks one signature with WebCrypto's Ed25519. The chain's
// validators (CometBFT, curve25519-voi) verify by ZIP-215: they accept
// non-canonical encodings of R and of the key and check the cofactored
// equation, where WebCrypto (RFC 8032 as BoringSSL and OpenSSL do it)
// refuses non-canonical points and checks the cofactorless one. The two
// differ only on signatures made to differ (small-order components,
// non-canonical encodings) that no honest signer makes: such a signature
// fails here though the chain would count it.
const keys = new Map();
async function verifyEd25519(pub, msg, sig) {
  if (sig.length !== 64 || pub.length !== 32) return false;
  const id = toHex(pub);
  try {
    if (!keys.has(id)) keys.set(id, await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']));
    return await crypto.subtle.verify('Ed25519', keys.get(id), sig, msg);
  } catch {
    return false;
  }
}

const checkHash = (b, what) => { if (b.length && b.length !== HASH_SIZE) fail('header_invalid', `${what} is not ${HASH_SIZE} bytes`); };

/**
 * verifyLightBlock is LightBlock.ValidateBasic(chainId): the block is well
 * formed, its header is the block the commit signs, its validator set the
 * one the header names. It says nothing of who signed: see verifyCommit.
 */
export async function verifyLightBlock(json, chainId) {
  const lb = parseLightBlock(json);
  const { header: h, commit: c } = lb;
  if (h.version.block !== BLOCK_PROTOCOL) fail('header_invalid', `block protocol ${h.version.block}, want ${BLOCK_PROTOCOL}`);
  if (h.chainId.length > MAX_CHAIN_ID) fail('header_invalid', 'chain ID too long');
  if (h.height <= 0n) fail('header_invalid', 'height not positive');
  checkHash(h.lastBlockId.hash, 'last block ID');
  checkHash(h.lastBlockId.partsHash, 'last block parts');
  [['last commit hash', h.lastCommitHash], ['data hash', h.dataHash], ['evidence hash', h.evidenceHash]].forEach(([w, b]) => checkHash(b, w));
  if (h.proposerAddress.length !== ADDRESS_SIZE) fail('header_invalid', 'proposer address is not 20 bytes');
  [['validators hash', h.validatorsHash], ['next validators hash', h.nextValidatorsHash], ['consensus hash', h.consensusHash],
    ['last results hash', h.lastResultsHash]].forEach(([w, b]) => checkHash(b, w));
  if (c.height < 0n || c.round < 0) fail('commit_invalid', 'negative height or round');
  if (c.height >= 1n) {
    if (isNilID(c.blockId)) fail('commit_invalid', 'commit for a nil block');
    if (!c.signatures.length) fail('commit_invalid', 'no signatures');
    c.signatures.forEach((s, i) => {
      if (s.flag === FLAG_ABSENT) {
        if (s.address.length || s.time.s !== ZERO_TIME || s.time.n || s.signature.length) fail('commit_invalid', `signature ${i} absent but not empty`);
      } else if (s.flag === FLAG_COMMIT || s.flag === FLAG_NIL) {
        if (s.address.length !== ADDRESS_SIZE || !s.signature.length || s.signature.length > MAX_SIGNATURE) fail('commit_invalid', `signature ${i} malformed`);
      } else fail('commit_invalid', `signature ${i}: unknown block ID flag ${s.flag}`);
    });
  }
  if (h.chainId !== chainId) fail('chain_id', `header of chain ${JSON.stringify(h.chainId)}, not ${JSON.stringify(chainId)}`);
  if (c.height !== h.height) fail('height', `header height ${h.height}, commit height ${c.height}`);
  lb.hash = await headerHash(h);
  if (!equal(lb.hash, c.blockId.hash)) fail('header_hash', `the commit signs block ${toHex(c.blockId.hash)}, the header is block ${toHex(lb.hash)}`);
  if (!lb.validators.length) fail('validators', 'empty validator set');
  for (const [i, v] of lb.validators.entries()) await checkValidator(v, `validator ${i}`);
  if (!lb.proposer) fail('validators', 'no proposer');
  await checkValidator(lb.proposer, 'proposer');
  if (!lb.validators.some((v) => equal(v.address, lb.proposer.address))) fail('validators', 'proposer not in the set');
  // CometBFT bounds the total (MaxTotalVotingPower) and panics beyond it.
  if (totalPower(lb.validators) > (1n << 60n) - 1n) fail('validators', 'total voting power over 2^60-1');
  if (!equal(h.validatorsHash, await validatorsHash(lb.validators))) fail('validators', 'the header names another validator set');
  return lb;
}

const totalPower = (vals) => vals.reduce((n, v) => n + v.power, 0n);

/**
 * verifyCommit is CometBFT's VerifyCommitLight (trusting false: the set
 * is the block's own, looked up by index, more than 2/3 needed) and
 * VerifyCommitLightTrusting (trusting true: a trusted set, looked up by
 * address, more than trustLevel needed). As CometBFT's light verification
 * does, it stops at the signature that crosses the threshold; with two
 * signatures or more it tallies before it verifies (CometBFT's batch
 * path), so a short tally fails as not enough power, not as a signature.
 * Returns the signers counted and the power they carry.
 */
export async function verifyCommit(chainId, vals, commit, { trusting = false, level = [1n, 3n], reason = 'not_enough_power' } = {}) {
  const total = totalPower(vals);
  const needed = trusting ? (total * level[0]) / level[1] : (total * 2n) / 3n;
  if (!trusting) {
    if (vals.length !== commit.signatures.length) fail('commit_invalid', `${commit.signatures.length} signatures for ${vals.length} validators`);
  }
  const batch = commit.signatures.length >= 2;
  const seen = new Set();
  const todo = [];
  let tallied = 0n;
  for (const [i, s] of commit.signatures.entries()) {
    if (s.flag !== FLAG_COMMIT) continue;
    let v;
    if (trusting) {
      v = vals.find((x) => equal(x.address, s.address));
      if (!v) continue;
      const id = toHex(v.address);
      if (seen.has(id)) fail('commit_invalid', `double vote from ${id}`);
      seen.add(id);
    } else v = vals[i];
    if (!batch && !(await verifyEd25519(v.pubKey, voteSignBytes(chainId, commit, i), s.signature))) fail('signature', `wrong signature #${i}`);
    todo.push([i, v]);
    tallied += v.power;
    if (tallied > needed) break;
  }
  if (tallied <= needed) fail(reason, `signed power ${tallied}, needed more than ${needed}`);
  if (batch) {
    for (const [i, v] of todo) {
      if (!(await verifyEd25519(v.pubKey, voteSignBytes(chainId, commit, i), commit.signatures[i].signature))) fail('signature', `wrong signature #${i}`);
    }
  }
  return { signers: todo.length, power: tallied, validators: vals.length, total };
}

/**
 * verifyLight is light.Verify: untrusted (a checked light block) from
 * trusted (one already trusted), adjacent or skipping. opts: now
 * ([seconds, nanos] from parseTime, or a Date), trustingPeriod and
 * maxClockDrift in seconds, trustLevel [numerator, denominator] (1/3).
 */
export async function verifyLight(trusted, untrusted, opts) {
  const { chainId } = opts;
  const now = nanos(clock(opts));
  const th = trusted.header, uh = untrusted.header;
  const period = setting(opts, 'trustingPeriod') * SECOND, drift = setting(opts, 'maxClockDrift') * SECOND;
  if (nanos(th.time) + period <= now) fail('expired', `the trusted header of height ${th.height} expired at ${timeText({ s: th.time.s + period / SECOND, n: th.time.n })}`);
  // verifyNewHeaderAndVals (the block's own checks were made as it was read)
  if (uh.height <= th.height) fail('height', `height ${uh.height} is not above the trusted ${th.height}`);
  if (nanos(uh.time) <= nanos(th.time)) fail('header_time', 'the header is not later than the trusted one');
  if (nanos(uh.time) >= now + drift) fail('header_time', 'the header is from the future');
  if (uh.height === th.height + 1n) {
    if (!equal(uh.validatorsHash, th.nextValidatorsHash)) fail('next_validators', 'the validators are not the trusted header\'s next validators');
  } else {
    const level = setting(opts, 'trustLevel');
    if (level[1] <= 0n) fail('malformed', 'trust level');
    await verifyCommit(chainId, trusted.validators, untrusted.commit, { trusting: true, level, reason: 'trust_level' });
  }
  return verifyCommit(chainId, untrusted.validators, untrusted.commit);
}

/**
 * bisect is CometBFT's light client reaching target from trusted
 * (verifySkipping): skip straight to it; where the trusted set's 1/3 did
 * not sign, fetch the block 9/16 of the way (fetch(height) returns its
 * JSON, or null if the node does not serve it) and try again from there.
 * Returns the blocks verified on the way (trusted first, target last) and
 * the signers of the target.
 */
export async function bisect(trusted, target, fetch, opts) {
  const cache = [target], trace = [trusted];
  let verified = trusted, depth = 0;
  for (;;) {
    let signed;
    try {
      signed = await verifyLight(verified, cache[depth], opts);
    } catch (e) {
      if (!(e instanceof VerifyError) || e.reason !== 'trust_level') throw e;
      if (depth === cache.length - 1) {
        const h = verified.header.height, pivot = h + ((cache[depth].header.height - h) * 9n) / 16n;
        const json = await fetch(pivot);
        if (json == null) throw e;
        const lb = await verifyLightBlock(json, opts.chainId);
        if (lb.header.height !== pivot) fail('height', `asked for block ${pivot}, got ${lb.header.height}`);
        cache.push(lb);
      }
      depth++;
      continue;
    }
    if (depth === 0) return { trace: [...trace, target], signed };
    verified = cache[depth];
    cache.length = depth;
    depth = 0;
    trace.push(verified);
  }
}

/**
 * verifyRoot checks the light block of the trust root: the height and
 * hash the person trusts, within the trusting period, signed by more than
 * 2/3 of its own set.
 */
export async function verifyRoot(lb, trust, opts) {
  const now = nanos(clock(opts));
  if (lb.header.height !== whole(trust?.height, 'trusted height') || toHex(lb.hash) !== String(trust.hash).toUpperCase()) {
    fail('trust_root', `block ${lb.header.height} ${toHex(lb.hash)} is not the trusted ${trust.height} ${trust.hash}`);
  }
  if (nanos(lb.header.time) + setting(opts, 'trustingPeriod') * SECOND <= now) fail('expired', 'the trusted header has expired');
  return verifyCommit(opts.chainId, lb.validators, lb.commit);
}

// canonical JSON, to compare the record shown with the record proved.
const canon = (v) => (Array.isArray(v) ? `[${v.map(canon).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(',')}}`
    : JSON.stringify(v));

/**
 * verifyAnswer checks an answer end to end, as client.Verifier does:
 * blocks[0] is the trust root (trust: {height, hash}); each later block is
 * verified from the one before; the last is header H+1 of answer (the body
 * of GET /v1/ids/{id}?proof=true, or its 404 with a proof of absence),
 * about id (canonical). opts: chainId, now, trustingPeriod, maxClockDrift,
 * and fetch(height) (a light block's JSON, or null) to reach header H+1 by
 * bisection from the last block given (then blocks may be the root alone).
 * Returns what the badge shows.
 */
export async function verifyAnswer({ trust, blocks, answer, id, ...opts }) {
  if (!blocks?.length) fail('malformed', 'no light blocks');
  let last = await verifyLightBlock(blocks[0], opts.chainId);
  let signed = await verifyRoot(last, trust, opts);
  for (const raw of blocks.slice(1)) {
    const lb = await verifyLightBlock(raw, opts.chainId);
    signed = await verifyLight(last, lb, opts);
    last = lb;
  }
  const ans = parseJSON(answer);
  const p = ans?.proof;
  if (!p) fail('malformed', 'the answer holds no proof');
  const num = (x, what) => (x == null ? 0n : Number.isSafeInteger(x) ? BigInt(x) : fail('malformed', `${what} is not a number`));
  const height = num(p.height, 'height'), headerHeight = num(p.header_height, 'header height');
  if (opts.fetch && headerHeight === height + 1n && last.header.height < headerHeight) {
    // Reach header H+1 from the last block given, by bisection.
    const json = await opts.fetch(headerHeight);
    if (json == null) fail('height', `no block ${headerHeight} to sign the answer`);
    const target = await verifyLightBlock(json, opts.chainId);
    if (target.header.height !== headerHeight) fail('height', `asked for block ${headerHeight}, got ${target.header.height}`);
    ({ signed } = await bisect(last, target, opts.fetch, opts));
    last = target;
  }
  if (headerHeight !== height + 1n || last.header.height !== headerHeight) fail('height', `proof of height ${height} names header ${headerHeight}; the blocks reach ${last.header.height}`);
  if (String(p.app_hash).toUpperCase() !== toHex(last.header.appHash)) fail('app_hash', 'the answer\'s app hash is not the signed header\'s');
  const k = fromBase64(p.key), value = p.value == null ? null : fromBase64(p.value);
  if (!equal(k, enc.encode(`id/${id}`))) fail('wrong_id', `the answer proves ${new TextDecoder().decode(k)}, not id/${id}`);
  const rec = ans.record ?? null;
  if (rec !== null && !is(rec, 'object')) fail('malformed', 'the record is not an object');
  if (rec && rec.id !== id) fail('wrong_id', `the answer shows ${rec.id}, proves ${id}`);
  const common = { type: p.type, root: last.header.appHash, key: k, proof: fromBase64(p.proof) };
  if (!rec) await verifyProof({ ...common, absent: true });
  else {
    await verifyProof({ ...common, value });
    let proved;
    try { proved = JSON.parse(new TextDecoder().decode(value)); } catch { fail('record_mismatch', 'the proved value is not a record'); }
    if (canon(proved) !== canon(rec)) fail('record_mismatch', 'the record shown differs from the proved value');
  }
  return {
    id, exists: !!rec, record: rec, height: Number(height), headerHeight: Number(headerHeight),
    appHash: toHex(last.header.appHash), headerTime: timeText(last.header.time), chainId: opts.chainId,
    signers: signed.signers, validators: signed.validators, power: String(signed.power), totalPower: String(signed.total),
  };
}
