// datajs.mjs runs sha256.js, httpsig.js and accesslog.js on the cases
// datajs_test.go writes (a JSON file named by the first argument) and
// prints one JSON object: what the browser's code made, for the test to
// compare with Go.
import { readFileSync } from 'node:fs';
import { Sha256 } from '../static/sha256.js';
import * as sig from '../static/httpsig.js';
import * as alog from '../static/accesslog.js';
import * as k from '../static/keys.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = {};

// SHA-256 of the pattern byte i = (31 i + 7) mod 256, fed in the slices
// the case names.
const pattern = (n) => Uint8Array.from({ length: n }, (_, i) => (31 * i + 7) & 255);
out.sha256 = input.sha256.map((c) => {
  const b = pattern(c.len);
  const h = new Sha256();
  let off = 0;
  for (const n of c.slices) {
    h.update(b.subarray(off, off + n));
    off += n;
  }
  h.update(b.subarray(off));
  return h.hex();
});

// RFC 9421 B.2.6: the base of the test request, and its signature with
// the RFC's key (Ed25519 is deterministic: it must be the RFC's).
const b = input.b26;
out.b26_base = sig.signatureBase(b.request, b.params);
const der = (pem, label) => Buffer.from(pem.split(`-----BEGIN ${label}-----`)[1].split('-----END')[0].replace(/\s+/g, ''), 'base64');
const rfcKey = await crypto.subtle.importKey('pkcs8', der(b.pem, 'PRIVATE KEY'), { name: 'Ed25519' }, false, ['sign']);
out.b26_signature = Buffer.from(await crypto.subtle.sign('Ed25519', rfcKey, new TextEncoder().encode(out.b26_base))).toString('base64');

// Requests signed as the portal signs them, for Go's Verifier.
const key = await k.fromSeed(Uint8Array.from(Buffer.from(input.seed, 'hex')));
const pub = await k.publicHex(key);
out.signed = [];
for (const c of input.sign) {
  try {
    out.signed.push(await sig.signHeaders({ method: c.method, url: c.url }, key, pub, { now: c.now_ms, nonce: c.nonce }));
  } catch (e) {
    out.signed.push({ error: `${e.name}: ${e.message}` });
  }
}
out.refused = input.refuse.map((c) => {
  try {
    sig.signatureBase(c.request, c.params);
    return '';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
});

// Access logs: each entry's hash, and each case's report.
out.hashes = input.entries.map((e) => alog.computeHash(e));
out.reports = input.logs.map((c) => alog.verify(c.entries, c.anchors));
out.recorded = [];
for (const c of input.recorded) out.recorded.push(await sig.recordedSignature(c.entry));
out.sig_logs = [];
for (const es of input.sig_logs) out.sig_logs.push(await alog.checkSignatures(es));
process.stdout.write(JSON.stringify(out));
