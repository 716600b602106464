// batch.js: a city's batch upload in the browser. It reads a CSV or JSON
// batch file as the CLI reads it (client.ParseBatchFile: the same rows,
// values and refusals), sends it as register_batch transactions of up to
// 5,000 identifiers signed with a key of this browser (sign.js), reports
// each refused row by its line in the file, and resumes after a failure
// without sending again what was written. Before that, checkBatchFile
// checks every identifier as the CLI's client.CheckBatchFile does
// (code.js), so that a file with a mistyped row is refused, naming its
// line, before anything is signed. internal/web/batch_test.go holds the
// reading to Go's and runs an upload of 12,000 rows against a real node;
// codejs_test.go holds the check to Go's.

import { sendTx, batchOrder, TxRefused } from './sign.js';
import { checkID, codeErrorText, goQuote, clipChars } from './code.js';

export const MAX_BATCH = 5000; // registry.MaxBatch

// BatchFileError is a file that cannot be read as a batch: its message
// names the file and the line or entry to fix, as the CLI's does.
export class BatchFileError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BatchFileError';
  }
}

// NotUTF8Error is a batch file whose bytes are not UTF-8 text: line is
// the line of its first byte that is not. It is a BatchFileError with
// the CLI's message.
export class NotUTF8Error extends BatchFileError {
  constructor(name, line) {
    super(`${name} line ${line} is not UTF-8 text: save the file as UTF-8`);
    this.line = line;
  }
}

// firstInvalidUTF8 is client's: the offset of the first byte of b that
// does not start a UTF-8 character (Unicode's well-formed sequences, as
// Go's utf8.DecodeRune reads them: no overlong forms, surrogates or
// characters past U+10FFFF); b.length when there is none.
function firstInvalidUTF8(b) {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let n;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) { n = 3; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    if (i + n > b.length || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (let k = 2; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    i += n;
  }
  return b.length;
}

// The decoder keeps a BOM (ignoreBOM) for parseBatchFile to drop, as Go
// drops one only, and throws on a byte that is not UTF-8 (fatal) where
// File.text() would put U+FFFD in its place without a word: a GBK file's
// Chinese text would go on chain as "\ufffd\ufffd".
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// decodeBatchFile is a batch file's bytes as text for parseBatchFile, or
// a NotUTF8Error naming the line of the first byte that is not UTF-8,
// as client.ParseBatchFile refuses it.
export function decodeBatchFile(name, bytes) {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    // Go counts the lines after dropping a BOM, which holds no '\n'.
    const end = firstInvalidUTF8(bytes);
    let line = 1;
    for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) line++;
    throw new NotUTF8Error(name, line);
  }
}

// csvRecords splits text into records as Go's encoding/csv reads it
// (RFC 4180; '"' doubled inside a quoted field; a bare '"' in an
// unquoted field or anything but ',' or a line's end after a closing
// '"' is an error; "\r\n" read as "\n", also inside quotes; empty lines
// skipped), and calls each(line, fields) for each record in turn, line
// the one its first field starts on. A callback, not a list of records:
// a file of a million rows would keep a million records more for the
// garbage collector to copy, and a record is refused before the text
// after it is read, as Go's reader refuses it.
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

function csvRecords(name, text, each) {
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (l, col, what) => { throw new BatchFileError(`${name}: record on line ${l}: ${what}`); };
  while (i < n) {
    // An empty line is no record.
    if (text[i] === '\n') { i++; line++; continue; }
    if (text[i] === '\r' && text[i + 1] === '\n') { i += 2; line++; continue; }
    const start = line;
    const fields = [];
    for (;;) {
      // A field is sliced from text, a run at a time: adding it a
      // character at a time would take seconds and gigabytes for a
      // hostile file's cell of megabytes.
      let field = '';
      if (text.charCodeAt(i) === QUOTE) {
        i++;
        let run = i;
        for (;;) {
          if (i >= n) fail(start, 0, 'extraneous or missing " in quoted-field');
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) { field += text.slice(run, i + 1); i += 2; run = i; continue; }
            field += text.slice(run, i);
            i++;
            break;
          }
          if (c === CR && text.charCodeAt(i + 1) === LF) { field += `${text.slice(run, i)}\n`; i += 2; line++; run = i; continue; }
          if (c === LF) line++;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          // Go keeps a lone "\r" at the end of input as the line's end.
          if (!(text[i] === '\r' && i + 1 === n)) fail(start, 0, 'extraneous or missing " in quoted-field');
        }
      } else {
        const from = i;
        for (; i < n; i++) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === LF || (c === CR && (i + 1 === n || text.charCodeAt(i + 1) === LF))) break;
          if (c === QUOTE) fail(start, 0, 'bare " in non-quoted-field');
        }
        field = text.slice(from, i);
      }
      fields.push(field);
      if (i < n && text[i] === ',') { i++; continue; }
      if (text[i] === '\r') i++;
      if (i < n && text[i] === '\n') { i++; line++; }
      break;
    }
    each(start, fields);
  }
}

// trimSpace is Go's strings.TrimSpace: Unicode's White_Space, which,
// unlike JavaScript's \s, does not hold U+FEFF.
// It is a loop, not a regular expression: one tried at every character
// of a cell of megabytes is slow.
const isSpace = (c) => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 || c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
function trimSpace(s) {
  let i = 0;
  let j = s.length;
  while (i < j && isSpace(s.charCodeAt(i))) i++;
  while (j > i && isSpace(s.charCodeAt(j - 1))) j--;
  return i === 0 && j === s.length ? s : s.slice(i, j);
}

// toUpper is Go's strings.ToUpper: each character's simple upper case,
// where JavaScript's would write 'ß' as "SS".
const toUpper = (s) => Array.from(s, (c) => {
  const u = c.toUpperCase();
  return Array.from(u).length === 1 ? u : c;
}).join('');

function parseCSV(name, text) {
  let header = null;
  let types = null;
  const entries = [];
  const lines = [];
  csvRecords(name, text, (line, fields) => {
    if (header === null) {
      header = fields;
      if (!/^id$/i.test(trimSpace(header[0]))) {
        throw new BatchFileError(`${name}: the header row must start with "id", then one value type per column (e.g. id,URL,TEXT)`);
      }
      types = header.map((h, i) => {
        if (i === 0) return '';
        const t = trimSpace(h);
        return t.includes(':') ? t : toUpper(t);
      });
      return;
    }
    if (fields.length > header.length) {
      throw new BatchFileError(`${name} line ${line}: ${fields.length} cells, but the header names ${header.length} columns`);
    }
    const e = { id: trimSpace(fields[0]), values: [] };
    if (e.id === '') throw new BatchFileError(`${name} line ${line}: no id in the first cell`);
    for (let i = 1; i < fields.length; i++) {
      if (fields[i] === '') continue;
      if (types[i] === '') {
        throw new BatchFileError(`${name} line ${line}: cell ${i + 1} has a value, but the header names no type for column ${i + 1}`);
      }
      e.values.push({ type: types[i], data: fields[i] });
    }
    entries.push(e);
    lines.push(line);
  });
  if (header === null) throw new BatchFileError(`${name}: read the header row: EOF`);
  return { entries, lines };
}

function parseJSON(name, text) {
  let list;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new BatchFileError(`${name}: not a JSON array of {id, values, admins}: ${e.message}`);
  }
  if (!Array.isArray(list)) throw new BatchFileError(`${name}: not a JSON array of {id, values, admins}`);
  const entries = list.map((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new BatchFileError(`${name}: entry ${i + 1} is not an object {id, values, admins}`);
    for (const k of Object.keys(e)) {
      if (!['id', 'values', 'admins'].includes(k)) throw new BatchFileError(`${name}: entry ${i + 1}: unknown field ${JSON.stringify(k)}`);
    }
    if (typeof e.id !== 'string' || trimSpace(e.id) === '') throw new BatchFileError(`${name}: entry ${i + 1} has no id`);
    const values = (e.values ?? []).map((v, j) => {
      if (!v || typeof v.type !== 'string' || v.type === '') throw new BatchFileError(`${name}: entry ${i + 1} (${e.id}): value ${j + 1} has no type`);
      return v;
    });
    const out = { id: e.id, values };
    if (Array.isArray(e.admins) && e.admins.length > 0) out.admins = e.admins;
    return out;
  });
  return { entries, lines: entries.map((_, i) => i + 1) };
}

// parseBatchFile reads a batch file's text: CSV when name ends in .csv,
// else JSON. It returns the entries ({id, values, admins}) and, for each,
// the line of the file it came from (CSV) or its place in the array
// (JSON), to name it in a refusal.
export function parseBatchFile(name, text) {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const { entries, lines } = /\.csv$/i.test(name) ? parseCSV(name, text) : parseJSON(name, text);
  if (entries.length === 0) throw new BatchFileError(`${name} holds no identifiers`);
  return { entries, lines };
}

// Reasons of a batch file's row that are no identifier's: the CLI says
// them in words only (client.checkBatchIDs), with the same message.
export const NOT_AN_OBJECT = 'not_an_object';
export const DUPLICATE = 'duplicate';

// BAD_ROWS is how many bad rows a refusal lists: enough to fix a file
// with a systematic mistake by its pattern, few enough to read.
export const BAD_ROWS = 20;

// BatchCheckError is a batch file read, one of whose identifiers cannot
// be registered. Its message is client.CheckBatchFile's for the file (the
// first bad row's); rows lists the first BAD_ROWS bad rows in file
// order, each {index, line, entry, id, reason, position, detail,
// message}: line is the file's line (for JSON, the line its array
// element starts on, and entry its place in the array), reason a code
// package reason (code.js) or NOT_AN_OBJECT or DUPLICATE, position the
// character of id where the problem is (0 for none), detail what is
// wrong in the CLI's words (code.Error's Msg for an identifier that does
// not parse) and message the CLI's whole refusal of the row (an
// identifier longer than ID_QUOTED clipped: quoteID); count is how many
// rows are bad.
export class BatchCheckError extends BatchFileError {
  constructor(rows, count) {
    super(rows[0].message);
    this.name = 'BatchCheckError';
    this.rows = rows;
    this.count = count;
  }
}

// jsonEntryLines is the line on which each element of the JSON array
// text (one that JSON.parse read) starts, as client's jsonEntryLine
// finds it: after the '[' or the ',' before it and any blanks.
function jsonEntryLines(text) {
  const lines = [];
  let line = 1;
  let i = 0;
  for (; i < text.length && text[i] !== '['; i++) if (text[i] === '\n') line++;
  let depth = 0;
  let next = true; // the next non-blank character starts an element
  for (i++; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') continue;
    if (next) {
      if (c === ']') break;
      lines.push(line);
      next = false;
    }
    if (c === '"') {
      // A JSON string holds no raw line break.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '[' || c === '{') {
      depth++;
    } else if (c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    } else if (c === ',' && depth === 0) {
      next = true;
    }
  }
  return lines;
}

// ID_QUOTED is how many characters of an identifier a refusal quotes:
// more than any identifier has (85), so only a hostile file's is
// clipped; the CLI clips alike (client's idQuoted, quoteID), so both say
// the same for every file.
export const ID_QUOTED = 200;

// quoteID is Go's %q of id, its first ID_QUOTED characters only.
export function quoteID(id) {
  const [head, rest] = clipChars(id, ID_QUOTED);
  return rest ? `${goQuote(head)} and ${rest} more characters` : goQuote(head);
}

// checkBatchFile is client.CheckBatchFile: parseBatchFile, then every
// identifier must be an object (<node>/<local-id>) that parses (code.js),
// and none there twice (in any spelling), or it throws a
// BatchCheckError naming the bad rows. Nothing is sent: the registry
// judges the values, and the identifiers against the state.
export function checkBatchFile(name, text) {
  const { entries, lines } = parseBatchFile(name, text);
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const csv = /\.csv$/i.test(name);
  const fileLines = csv ? lines : jsonEntryLines(text);
  const where = (i) => (csv ? `${name} line ${fileLines[i]}` : `${name} line ${fileLines[i] ?? 0}, entry ${i + 1}`);
  const rows = [];
  let count = 0;
  // A row's message is made only for a row listed: a hostile file of a
  // million bad rows, or of one identifier of megabytes, is counted, not
  // quoted.
  const bad = (i, reason, position, detail, message) => {
    count++;
    if (rows.length < BAD_ROWS) {
      rows.push({ index: i, line: fileLines[i] ?? 0, entry: csv ? 0 : i + 1, id: entries[i].id, reason, position, detail, message: `${where(i)}: ${message(detail)}` });
    }
  };
  const first = new Map(); // an identifier's canonical text to its entry
  const scratch = new Uint8Array(1024);
  entries.forEach((e, i) => {
    const p = checkID(e.id, scratch);
    if (!p.ok) {
      bad(i, p.reason, p.position, p.detail, () => `identifier ${quoteID(e.id)}: ${codeErrorText(p)}`);
      return;
    }
    if (p.kind !== 'object') {
      bad(i, NOT_AN_OBJECT, 0, `${e.id} is a ${p.kind}, not an object: a batch registers objects, <node>/<local-id>`, (d) => d);
      return;
    }
    if (first.has(p.text)) {
      bad(i, DUPLICATE, 0, `${e.id} is registered by ${where(first.get(p.text))} too: give each identifier once`, (d) => d);
      return;
    }
    first.set(p.text, i);
  });
  if (count > 0) throw new BatchCheckError(rows, count);
  return { entries, lines };
}

// refusedEntry reads which entry of a batch a refusal names ("entry N
// (...)", N in the order the batch travels) and returns its index in the
// batch as given, or -1.
export function refusedEntry(batch, detail) {
  const m = /^entry (\d+)\b/.exec(detail || '');
  if (!m) return -1;
  const order = batchOrder(batch);
  const k = Number(m[1]) - 1;
  return k >= 0 && k < order.length ? order[k] : -1;
}

// upload sends entries (with lines, from parseBatchFile) as register_batch
// transactions of up to MAX_BATCH, signed by key for chainID, to the node
// at base. state ({done, skipped, pending}) says where a previous upload
// of the same file stopped; upload goes on from there and keeps it up to
// date (the caller saves it, say in localStorage under the file's hash),
// so that nothing written is sent again:
//   - done: how many entries, from the first, are settled (written, or
//     refused and skipped);
//   - skipped: [{line, id, code, detail}], the rows refused so far;
//   - pending: {hash, from, to} of a batch sent whose fate is not known
//     (the page closed, the network failed); on resume its hash is asked
//     of the node before anything is signed again.
// With skipRefused, a refused row is recorded in skipped and the rest of
// its batch is sent again without it; without it, upload stops at the
// first refusal and returns it, and a later call with skipRefused goes
// on. onSigned(state) is called when a batch is signed, before it is
// sent: the caller saves the state then, so that a page closed while the
// batch waits for its block resumes by asking for its hash.
// onProgress({done, total, skipped, hash, rows}) is called after
// every batch (hash and rows, the first and last line it held, for one
// that was written).
export async function upload({ base, chainID, key, pubKey, entries, lines, state = {}, skipRefused = false, onProgress = () => {}, onSigned = () => {}, batchSize = MAX_BATCH }) {
  state.done ??= 0;
  state.skipped ??= [];
  const total = entries.length;
  const skip = new Set(state.skipped.map((s) => s.index));
  if (state.pending) {
    const resp = await fetch(`${base}/v1/txs/${state.pending.hash}`);
    const info = resp.ok ? await resp.json().catch(() => null) : null;
    if (info && info.code === 0 && !info.error) state.done = state.pending.to;
    delete state.pending;
  }
  while (state.done < total) {
    const from = state.done;
    const indexes = [];
    let to = from;
    while (to < total && indexes.length < batchSize) {
      if (!skip.has(to)) indexes.push(to);
      to++;
    }
    if (indexes.length === 0) {
      state.done = to;
      continue;
    }
    const batch = indexes.map((i) => entries[i]);
    let p;
    try {
      await sendTx({ base, chainID, key, pubKey, kind: 'register_batch', msg: { entries: batch },
        onSigned: (hash) => { state.pending = { hash, from, to }; onSigned(state); } });
      const hash = state.pending.hash;
      delete state.pending;
      state.done = to;
      onProgress({ done: state.done, total, skipped: state.skipped.length, hash, rows: [lines[from], lines[to - 1]] });
      continue;
    } catch (e) {
      if (!(e instanceof TxRefused)) throw e;
      if (e.code === 'timeout') {
        // In the mempool; its fate is asked on resume.
        throw new Error(`rows ${lines[from]}-${lines[to - 1]}: not committed in time (transaction ${e.hash}); resume to check it`);
      }
      p = e.problem;
      p.code = e.code;
    }
    delete state.pending;
    const k = refusedEntry(batch, p.detail);
    const refusal = { index: k >= 0 ? indexes[k] : -1, line: k >= 0 ? lines[indexes[k]] : 0, id: k >= 0 ? batch[k].id : '', code: p.code, detail: p.detail ?? '' };
    if (!skipRefused || k < 0) {
      return { ok: false, refused: refusal, state };
    }
    state.skipped.push(refusal);
    skip.add(refusal.index);
    onProgress({ done: state.done, total, skipped: state.skipped.length });
  }
  return { ok: true, state };
}
