// run.mjs checks every vector in the folder given with verify.js and
// prints one JSON line per vector: its name and verify.js's verdict.
// verifyjs_test.go runs it with node and compares with Go's verdicts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as v from '../static/verify.js';

const dir = process.argv[2];
const b64 = (s) => v.fromBase64(s ?? null);

let pivots = [];

// harness reads a vector's own fields as Go's encoding/json reads them
// into the test's structs (null is the zero value), so that a changed
// input is refused alike before it reaches verify.js.
function harness(input, fields) {
  const bad = (k) => { throw new v.VerifyError('malformed', `vector field ${k}`); };
  for (const [k, type] of Object.entries(fields)) {
    const x = input[k];
    if (x == null) continue;
    if (type === 'int' ? !Number.isSafeInteger(x) : type === 'array' ? !Array.isArray(x) : typeof x !== type || Array.isArray(x)) bad(k);
  }
}

async function check(kind, input) {
  harness(input, { chain_id: 'string', now: 'string', trusting_period: 'int', max_clock_drift: 'int', type: 'string',
    root: 'string', key: 'string', value: 'string', proof: 'string', absent: 'boolean', trust: 'object', id: 'string',
    target: 'int', blocks: kind.startsWith('answer') ? 'array' : 'object' });
  input.trust ??= { height: 0, hash: '' };
  harness(input.trust, { height: 'int', hash: 'string' });
  const opts = {
    chainId: input.chain_id ?? '', now: kind === 'proof' ? null : v.parseTime(input.now ?? ''),
    trustingPeriod: input.trusting_period ?? 0, maxClockDrift: input.max_clock_drift ?? 0,
  };
  switch (kind) {
    case 'proof':
      return v.verifyProof({ type: input.type, root: v.fromHex(input.root), key: b64(input.key),
        value: input.value == null ? null : b64(input.value), proof: b64(input.proof), absent: !!input.absent });
    case 'light': {
      const trusted = await v.verifyLightBlock(input.trusted, opts.chainId);
      const untrusted = await v.verifyLightBlock(input.untrusted, opts.chainId);
      return v.verifyLight(trusted, untrusted, opts);
    }
    case 'bisect': {
      const blocks = input.blocks ?? {};
      const root = await v.verifyLightBlock(blocks[input.trust.height ?? 0] ?? null, opts.chainId);
      await v.verifyRoot(root, input.trust, opts);
      const target = await v.verifyLightBlock(blocks[input.target ?? 0] ?? null, opts.chainId);
      return v.bisect(root, target, (h) => { pivots.push(Number(h)); return blocks[String(h)] ?? null; }, opts);
    }
    case 'answer':
      return v.verifyAnswer({ trust: input.trust, blocks: input.blocks, answer: input.answer, id: input.id, ...opts });
    case 'answer#fetch': {
      // The same answer reached by bisection from the root alone, the
      // other blocks served by height.
      const byHeight = new Map((input.blocks ?? []).slice(1).map((b) => [String(b?.signed_header?.header?.height), b]));
      const fetch = (h) => byHeight.get(String(h)) ?? null;
      return v.verifyAnswer({ trust: input.trust, blocks: (input.blocks ?? []).slice(0, 1), answer: input.answer, id: input.id, ...opts, fetch });
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

// With --fuzz N, each vector's input is changed N times at random
// (seeded, so a failure repeats) and every verdict must be a VerifyError:
// garbage is refused with a reason, never with an exception. The changed
// inputs verify.js accepts are printed, for Go to judge.
if (process.argv[3] === '--fuzz') await fuzz(Number(process.argv[4]));
else await run();

async function run() {
const runs = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const vec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  runs.push([vec.name, vec.kind, vec.input]);
  if (vec.kind === 'answer') runs.push([`${vec.name}#fetch`, 'answer#fetch', vec.input]);
}
for (const [name, kind, input] of runs) {
  const out = { name, ok: true };
  pivots = [];
  const start = performance.now();
  try {
    await check(kind, input);
  } catch (e) {
    out.ok = false;
    out.reason = e instanceof v.VerifyError ? e.reason : 'exception';
    out.message = e instanceof v.VerifyError ? e.message : String(e.stack || e);
  }
  out.ms = +(performance.now() - start).toFixed(2);
  if (pivots.length) out.pivots = pivots;
  console.log(JSON.stringify(out));
}
}

function rng(seed) { // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// leaves lists every [parent, key] of a JSON value.
function leaves(v, out = [], path = '') {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (v[k] && typeof v[k] === 'object') leaves(v[k], out, `${path}.${k}`);
      out.push([v, k, `${path}.${k}`]);
    }
  }
  return out;
}

function mutate(value, r) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  // Bytes (a proof, a signature): flip a bit, drop or add a byte.
  if (typeof value === 'string' && value.length > 16 && /^[A-Za-z0-9+/]+=*$/.test(value) && r() < 0.7) {
    const b = [...Buffer.from(value, 'base64')];
    const i = Math.floor(r() * b.length);
    const op = r();
    if (op < 0.6) b[i] ^= 1 << Math.floor(r() * 8);
    else if (op < 0.8) b.splice(i, 1);
    else b.splice(i, 0, Math.floor(r() * 256));
    return Buffer.from(b).toString('base64');
  }
  if (typeof value === 'string' && value.length && r() < 0.6) {
    const i = Math.floor(r() * value.length);
    return value.slice(0, i) + pick(['A', '0', '/', '+', '=', '-', 'z', '', '9999999999999999999999']) + value.slice(i + 1);
  }
  return pick([null, '', 0, -1, 1e300, '18446744073709551616', '-9223372036854775809', [], {}, true, 'AAAA', 'zz', '0001-01-01T00:00:00Z', [null]]);
}

async function fuzz(n) {
  let checks = 0;
  const exceptions = [], accepted = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  for (const [fi, f] of files.entries()) {
    const vec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const r = rng(fi + 1);
    for (let i = 0; i < n; i++) {
      const input = structuredClone(vec.input);
      const spots = leaves(input);
      const changed = [];
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const [parent, key, path] = spots[Math.floor(r() * spots.length)];
        parent[key] = mutate(parent[key], r);
        changed.push(`${path}=${JSON.stringify(parent[key])?.slice(0, 40)}`);
      }
      checks++;
      try {
        await check(vec.kind, input);
        accepted.push({ name: `${vec.name}~${i}`, about: changed.join(' '), kind: vec.kind, input });
      } catch (e) {
        if (!(e instanceof v.VerifyError)) exceptions.push(`${vec.name} #${i}: ${e.stack || e}`);
      }
    }
  }
  // What verify.js accepted goes back to Go, which must accept it too.
  console.log(JSON.stringify({ checks, exceptions: exceptions.slice(0, 20), count: exceptions.length, accepted }));
}
