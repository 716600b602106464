// accesslog.js: a dataset's access log checked in the browser as
// internal/accesslog checks it in Go (Entry.CanonicalBytes, ComputeHash,
// Verify): entries numbered 1, 2, 3… of one dataset, each prev the hash
// before, each hash recomputed from its fields, every anchor the ledger
// holds naming the entry with that hash, and no anchor past the end.
// The log comes from the owner's node and the anchors from the ledger;
// neither is taken on its word. internal/web/datajs_test.go holds the
// verdicts to Go's, on logs Go wrote and on tampered ones.

import { Sha256 } from './sha256.js';
import { recordedSignature } from './httpsig.js';

export const ZERO_HASH = '0'.repeat(64);
const DOMAIN = 'cityid-accesslog-v1\n';
const utf8 = new TextEncoder();

// Report codes, as accesslog's Problem… constants.
export const PROBLEMS = ['bad_seq', 'wrong_dataset', 'bad_prev', 'bad_hash', 'anchor_mismatch', 'truncated'];

// decimal writes an integer field as Go's strconv does; a field that is
// no integer (a tampered line) is written as it reads, so it hashes to
// something else and is caught as bad_hash, never thrown.
const decimal = (n) => (typeof n === 'bigint' || Number.isSafeInteger(n) ? String(n) : String(n ?? 0));
const str = (s) => (typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s));

// canonicalBytes are the bytes an entry's hash covers
// (accesslog.Entry.CanonicalBytes): a domain line, then every field but
// hash as "name=<UTF-8 length>:<value>\n", in a fixed order.
export function canonicalBytes(e) {
  let out = DOMAIN;
  const field = (name, v) => { out += `${name}=${utf8.encode(v).length}:${v}\n`; };
  field('seq', decimal(e.seq));
  field('time', str(e.time));
  field('dataset', str(e.dataset));
  field('key', str(e.key));
  field('grantee', str(e.grantee));
  field('grant', decimal(e.grant ?? 0));
  field('height', decimal(e.height));
  field('method', str(e.method));
  field('range', str(e.range));
  field('bytes', decimal(e.bytes));
  field('status', decimal(e.status));
  field('result', str(e.result));
  field('remote', str(e.remote));
  field('target', str(e.target));
  field('sig_input', str(e.sig_input));
  field('sig', str(e.sig));
  field('prev', str(e.prev));
  return utf8.encode(out);
}

// computeHash is the hex SHA-256 of canonicalBytes: what hash must be.
export function computeHash(e) {
  return new Sha256().update(canonicalBytes(e)).hex();
}

// verify checks a whole log (entries from 1) against anchors
// ([{entries, head}]), as accesslog.Verify: {ok, entries, anchored, code,
// problem, at}, at the first entry in log order where a check fails.
export function verify(entries, anchors) {
  const sorted = anchors.map((a, i) => ({ a, i }))
    .sort((x, y) => (x.a.entries - y.a.entries) || (x.i - y.i)).map((x) => x.a);
  const r = { ok: false, entries: entries.length, anchored: 0 };
  const fail = (code, at, problem) => ({ ...r, code, at, problem });
  let next = 0;
  while (next < sorted.length && sorted[next].entries === 0) {
    if (sorted[next].head !== ZERO_HASH) return fail('anchor_mismatch', 0, `an anchor of 0 entries has head ${sorted[next].head}, not the empty log's`);
    next++;
  }
  let prev = ZERO_HASH;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const n = i + 1;
    if (e.seq !== n) return fail('bad_seq', n, `entry ${n} is numbered ${e.seq}`);
    if (i > 0 && e.dataset !== entries[0].dataset) return fail('wrong_dataset', n, `entry ${n} is of dataset ${JSON.stringify(e.dataset)}, the log of ${JSON.stringify(entries[0].dataset)}`);
    if (e.prev !== prev) return fail('bad_prev', n, `entry ${n} has prev ${e.prev}, but entry ${n - 1}'s hash is ${prev}`);
    const h = computeHash(e);
    if (e.hash !== h) return fail('bad_hash', n, `entry ${n} has hash ${e.hash}, but its fields hash to ${h}`);
    while (next < sorted.length && sorted[next].entries === n) {
      if (sorted[next].head !== e.hash) return fail('anchor_mismatch', n, `the ledger anchored entry ${n} with head ${sorted[next].head}, the log has ${e.hash}`);
      r.anchored = n;
      next++;
    }
    prev = e.hash;
  }
  if (next < sorted.length) {
    const a = sorted[next];
    return fail('truncated', a.entries, `the ledger anchored ${a.entries} entries, the log has ${entries.length}`);
  }
  return { ...r, ok: true };
}

// checkSignatures checks every request a log let in with a key (status
// under 400) against its signature (httpsig.js's recordedSignature), and
// that no two are one signed request (a key's nonce twice), as
// client.CheckEntrySignatures does: an entry the node wrote for a request
// nobody made, or copied from one it was sent, does not check. {signed,
// ok, at, problem}: how many were checked, and the first that fails.
export async function checkSignatures(entries) {
  const seen = new Map();
  let signed = 0;
  for (const e of entries) {
    if (e.status >= 400 || !e.key) continue;
    signed++;
    const v = await recordedSignature(e);
    if (!v.ok) return { signed, ok: false, at: e.seq, code: v.code, problem: `entry ${e.seq}: the request it records was not signed by ${e.key}: ${v.code}: ${v.reason}` };
    const k = `${e.key} ${v.nonce}`;
    if (seen.has(k)) return { signed, ok: false, at: e.seq, code: 'signature_replayed', problem: `entry ${e.seq} repeats the request of entry ${seen.get(k)} (key ${e.key}, nonce ${JSON.stringify(v.nonce)})` };
    seen.set(k, e.seq);
  }
  return { signed, ok: true };
}
