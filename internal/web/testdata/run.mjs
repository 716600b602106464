// run.mjs checks every vector in the folder given with verify.js and
// prints one JSON line per vector: its name and verify.js's verdict.
// verifyjs_test.go runs it with node and compares with Go's verdicts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as v from '../static/verify.js';

const dir = process.argv[2];
const b64 = (s) => v.fromBase64(s ?? null);

let pivots = [];

async function check(kind, input) {
  const opts = {
    chainId: input.chain_id, now: input.now && v.parseTime(input.now),
    trustingPeriod: input.trusting_period, maxClockDrift: input.max_clock_drift,
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
      const root = await v.verifyLightBlock(input.blocks[input.trust.height], opts.chainId);
      await v.verifyRoot(root, input.trust, opts);
      const target = await v.verifyLightBlock(input.blocks[input.target], opts.chainId);
      return v.bisect(root, target, (h) => { pivots.push(Number(h)); return input.blocks[String(h)] ?? null; }, opts);
    }
    case 'answer':
      return v.verifyAnswer({ trust: input.trust, blocks: input.blocks, answer: input.answer, id: input.id, ...opts });
    case 'answer#fetch': {
      // The same answer reached by bisection from the root alone, the
      // other blocks served by height.
      const byHeight = new Map(input.blocks.slice(1).map((b) => [String(b?.signed_header?.header?.height), b]));
      const fetch = (h) => byHeight.get(String(h)) ?? null;
      return v.verifyAnswer({ trust: input.trust, blocks: input.blocks.slice(0, 1), answer: input.answer, id: input.id, ...opts, fetch });
    }
  }
  throw new Error(`unknown kind ${kind}`);
}

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
