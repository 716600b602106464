// keys.js: a person's Ed25519 signing keys in the browser. They are
// WebCrypto keys, made here or imported from a `cityid keys` file or a
// backup, kept in this browser's IndexedDB and never sent anywhere. A
// backup is the key's seed encrypted with a passphrase (PBKDF2-HMAC-SHA256
// and AES-256-GCM, both WebCrypto's and Go's standard library's), in the
// format `cityid keys import` reads and `cityid keys export` writes
// (internal/keyring/backup.go; internal/web/sign_test.go checks that each
// side reads the other's).

export class KeyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'KeyError';
  }
}

// The backup format's constants, as internal/keyring/backup.go has them.
export const BACKUP_FORMAT = 'cityid-key-backup';
export const BACKUP_ITERATIONS = 600000; // OWASP's 2023 figure for PBKDF2-HMAC-SHA256
const MIN_ITERATIONS = 100000;
const MAX_ITERATIONS = 10000000; // a backup is untrusted input: bound the work it asks

// PKCS #8 of an Ed25519 private key is this prefix and the 32-byte seed
// (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

const utf8 = new TextEncoder();

function fromHex(s, n, what) {
  if (typeof s !== 'string' || s.length !== 2 * n || !/^[0-9a-f]*$/.test(s)) {
    throw new KeyError(`${what} is not ${n} bytes of lowercase hex`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// toBase64 is standard padded base64, as Go's base64.StdEncoding writes it.
export function toBase64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(s, what) {
  // Padded standard base64 only, as Go's decoder takes it (atob takes more).
  if (typeof s !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new KeyError(`${what} is not base64`);
  }
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    throw new KeyError(`${what} is not base64`);
  }
}

// fromSeed makes the key pair of a 32-byte seed, as Go's
// ed25519.NewKeyFromSeed does. The private key is extractable, so that
// it can be backed up.
export async function fromSeed(seed) {
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, true, ['verify']);
  return { privateKey, publicKey };
}

// generate makes a new key pair.
export async function generate() {
  return fromSeed(crypto.getRandomValues(new Uint8Array(32)));
}

// seedOf is the private key's 32-byte seed.
export async function seedOf(key) {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', key.privateKey));
  return pkcs8.slice(pkcs8.length - 32);
}

// publicHex is the key's public half as records list admins.
export async function publicHex(key) {
  return toHex(new Uint8Array(await crypto.subtle.exportKey('raw', key.publicKey)));
}

// importKeyFile reads a `cityid keys` file in clear, an older cityid's
// (keys/NAME.json: name, type, pub_key, seed), and checks that its public
// key is its seed's.
export async function importKeyFile(text) {
  let f;
  try {
    f = JSON.parse(text);
  } catch {
    throw new KeyError('the file is not JSON: expected a cityid key file (keys/NAME.json) or a backup');
  }
  if (f.format === BACKUP_FORMAT) throw new KeyError('this is an encrypted backup: import it with its passphrase');
  // cityid encrypts key files at rest (age, which the browser lacks): such a
  // key comes here as a backup.
  if (f.age) throw new KeyError('this key file is encrypted at rest: make a backup of it with cityid keys export NAME, and import that with its passphrase');
  if (f.type !== 'ed25519') throw new KeyError(`key type ${JSON.stringify(f.type)} is not ed25519`);
  const key = await fromSeed(fromHex(f.seed, 32, 'seed'));
  if (f.pub_key && f.pub_key !== await publicHex(key)) throw new KeyError('pub_key does not match the seed');
  return { name: f.name || '', key };
}

async function backupKey(passphrase, salt, iterations) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new KeyError('the passphrase is empty');
  const base = await crypto.subtle.importKey('raw', utf8.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

// additional is the data the cipher authenticates besides the seed: the
// format, its version, the name and the public key, so that none of them
// can be changed in a backup without the passphrase.
function additional(f) {
  return utf8.encode(`${BACKUP_FORMAT} ${f.version} ${f.name ?? ""} ${f.pub_key}`); // a missing name is "", as Go reads it
}

// exportBackup is the backup file (its JSON text) of key named name,
// encrypted with passphrase.
export async function exportBackup(key, name, passphrase, iterations = BACKUP_ITERATIONS) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const f = {
    format: BACKUP_FORMAT, version: 1, name, pub_key: await publicHex(key),
    kdf: 'PBKDF2-HMAC-SHA256', iterations, salt: toBase64(salt), cipher: 'AES-256-GCM', nonce: toBase64(nonce),
  };
  const aes = await backupKey(passphrase, salt, iterations);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: additional(f) }, aes, await seedOf(key));
  f.ciphertext = toBase64(new Uint8Array(sealed));
  return JSON.stringify(f, null, 2) + '\n';
}

// importBackup opens a backup file's text with passphrase.
export async function importBackup(text, passphrase) {
  let f;
  try {
    f = JSON.parse(text);
  } catch {
    throw new KeyError('the backup is not JSON');
  }
  if (f.format !== BACKUP_FORMAT) throw new KeyError(`not a CityID key backup (format ${JSON.stringify(f.format)})`);
  if (f.version !== 1) throw new KeyError(`backup version ${f.version} is not 1: use a newer portal`);
  if (f.kdf !== 'PBKDF2-HMAC-SHA256' || f.cipher !== 'AES-256-GCM') throw new KeyError(`unknown kdf ${f.kdf} or cipher ${f.cipher}`);
  if (!Number.isSafeInteger(f.iterations) || f.iterations < MIN_ITERATIONS || f.iterations > MAX_ITERATIONS) {
    throw new KeyError(`iterations ${f.iterations} is not between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`);
  }
  const salt = unb64(f.salt, 'salt');
  const nonce = unb64(f.nonce, 'nonce');
  if (salt.length < 16 || nonce.length !== 12) throw new KeyError('salt or nonce has the wrong size');
  fromHex(f.pub_key, 32, 'pub_key');
  const aes = await backupKey(passphrase, salt, f.iterations);
  let seed;
  try {
    seed = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: additional(f) }, aes, unb64(f.ciphertext, 'ciphertext')));
  } catch {
    throw new KeyError('wrong passphrase, or the backup was altered');
  }
  if (seed.length !== 32) throw new KeyError('the backup holds no Ed25519 seed');
  const key = await fromSeed(seed);
  if (await publicHex(key) !== f.pub_key) throw new KeyError('pub_key does not match the seed');
  return { name: f.name || '', key };
}

// The keys kept in this browser: IndexedDB database "cityid", store
// "keys", one record {name, pub_key, privateKey, publicKey} by name.
// CryptoKey objects are stored as they are (structured clone).
function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open('cityid', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('keys', { keyPath: 'name' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new KeyError(`this browser's key store cannot be opened: ${req.error}`));
  });
}

function tx(mode, f) {
  return db().then((d) => new Promise((resolve, reject) => {
    const t = d.transaction('keys', mode);
    const result = f(t.objectStore('keys'));
    t.oncomplete = () => resolve(result.result);
    t.onerror = () => reject(new KeyError(`key store: ${t.error}`));
  }));
}

// saveKey keeps key under name; a name already used is refused.
export async function saveKey(name, key) {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new KeyError(`key name ${JSON.stringify(name)}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'`);
  }
  const record = { name, pub_key: await publicHex(key), privateKey: key.privateKey, publicKey: key.publicKey };
  return tx('readwrite', (s) => s.add(record));
}

// listKeys is every kept key: [{name, pub_key, privateKey, publicKey}].
export function listKeys() {
  return tx('readonly', (s) => s.getAll());
}

// removeKey forgets the key named name.
export function removeKey(name) {
  return tx('readwrite', (s) => s.delete(name));
}
