// sign.mjs runs sign.js and keys.js on the cases sign_test.go writes (a
// JSON file named by the first argument) and prints one JSON line per
// case: what the browser's code made, for the test to compare with Go.
import { readFileSync } from 'node:fs';
import * as s from '../static/sign.js';
import * as k from '../static/keys.js';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const b64 = (u8) => Buffer.from(u8).toString('base64');
const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const key = await k.fromSeed(fromHex(input.seed));
out({ name: 'public', pub_key: await k.publicHex(key), seed: Buffer.from(await k.seedOf(key)).toString('hex') });

for (const c of input.bodies) {
  try {
    const body = s.encodeBody(c.kind, c.nonce, c.msg, c.valid_until ?? 0);
    const { tx, hash } = await s.signTx(input.chain_id, body, key);
    out({ name: c.name, body: b64(body), tx: b64(tx), hash });
  } catch (e) {
    out({ name: c.name, error: `${e.name}: ${e.message}` });
  }
}

for (const c of input.refused ?? []) {
  try {
    s.encodeBody(c.kind, c.nonce, c.msg, c.valid_until ?? 0);
    out({ name: c.name, error: '' });
  } catch (e) {
    out({ name: c.name, error: `${e.name}: ${e.message}` });
  }
}

// A key file of the CLI, read here.
try {
  const f = await k.importKeyFile(input.key_file);
  out({ name: 'key_file', pub_key: await k.publicHex(f.key), key_name: f.name });
} catch (e) {
  out({ name: 'key_file', error: `${e.name}: ${e.message}` });
}

// The CLI's backup, opened here, with the right passphrase and a wrong one.
for (const [name, pass] of [['go_backup', input.passphrase_nfd], ['go_backup_wrong', input.passphrase + 'x']]) {
  try {
    const b = await k.importBackup(input.go_backup, pass);
    out({ name, pub_key: await k.publicHex(b.key), key_name: b.name });
  } catch (e) {
    out({ name, error: `${e.name}: ${e.message}` });
  }
}

// A backup made here, for Go to open.
out({ name: 'js_backup', backup: await k.exportBackup(key, 'from-browser', input.passphrase_nfd, input.iterations) });
