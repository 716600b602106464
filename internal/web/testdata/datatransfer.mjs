// datatransfer.mjs runs data.js's upload and download against the
// server datajs_test.go starts (its URL and the cases in the JSON file
// named by the first argument) and prints one JSON object: what each
// call returned or why it failed.
import { readFileSync } from 'node:fs';
import * as data from '../static/data.js';
import * as k from '../static/keys.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const key = await k.fromSeed(Uint8Array.from(Buffer.from(input.seed, 'hex')));
const pubKey = await k.publicHex(key);
const content = Uint8Array.from({ length: input.size }, (_, i) => (31 * i + 7) & 255);
const out = { progress: [], downloads: {} };

try {
  const ans = await data.upload({ base: input.base, id: input.upload_id, file: new Blob([content]), key, pubKey, chunk: input.chunk,
    onProgress: (n) => out.progress.push(n) });
  out.upload = ans;
} catch (e) {
  out.upload = { error: `${e.name}: ${e.message}` };
}

for (const c of input.downloads) {
  try {
    const got = await data.download({ base: input.base, id: c.id, dataset: c.dataset, key: c.anonymous ? null : key, pubKey: c.anonymous ? '' : pubKey });
    const bytes = new Uint8Array(await got.blob.arrayBuffer());
    const same = bytes.length === content.length && bytes.every((b, i) => b === content[i]);
    out.downloads[c.id] = { ok: true, same, sha256: got.sha256, receipt: got.receipt };
  } catch (e) {
    out.downloads[c.id] = { ok: false, error: `${e.name}: ${e.message}`, code: e.code || '' };
  }
}
process.stdout.write(JSON.stringify(out));
