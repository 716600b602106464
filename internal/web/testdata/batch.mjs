// batch.mjs runs batch.js for batch_test.go. "parse FILE": FILE holds
// [{name, text, bytes}], and one JSON line per case says what
// parseBatchFile read or why not; a case with bytes (base64) is read as
// the desk reads a file, through decodeBatchFile. "upload FILE": FILE holds {base, chain_id, seed, csv,
// steps}, and one JSON line per step says what upload did; a step is
// {skip_refused, replay_first}, the latter starting from a state that
// knows only the first batch's hash.
import { readFileSync } from 'node:fs';
import * as b from '../static/batch.js';
import * as k from '../static/keys.js';

const [mode, file] = process.argv.slice(2);
const input = JSON.parse(readFileSync(file, 'utf8'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

if (mode === 'parse') {
  for (const c of input) {
    try {
      const text = c.bytes ? b.decodeBatchFile(c.name, Buffer.from(c.bytes, 'base64')) : c.text;
      const { entries, lines } = b.parseBatchFile(c.name, text);
      out({ entries, lines });
    } catch (e) {
      out({ error: `${e.name}: ${e.message}` });
    }
  }
} else {
  const key = await k.fromSeed(Uint8Array.from(Buffer.from(input.seed, 'hex')));
  const pubKey = await k.publicHex(key);
  const { entries, lines } = b.parseBatchFile('meters.csv', input.csv);
  let state = {};
  const progress = [];
  let first = null; // the first batch written
  for (const step of input.steps) {
    if (step.replay_first) {
      // As if the page had closed after sending the first batch, before
      // its answer came: only its hash was saved.
      state = { done: 0, skipped: [], pending: { hash: first.hash, from: 0, to: first.done } };
    }
    try {
      const r = await b.upload({ base: input.base, chainID: input.chain_id, key, pubKey, entries, lines, state,
        skipRefused: step.skip_refused, onProgress: (p) => { first ??= p; progress.push(p); } });
      out({ ok: r.ok, refused: r.refused ?? null, state: r.state, progress: progress.splice(0) });
    } catch (e) {
      out({ error: `${e.name}: ${e.message}`, state, progress: progress.splice(0) });
    }
  }
}
