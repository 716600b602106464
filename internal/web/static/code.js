// code.js: package code's identifier grammar (code/parse.go, check.go,
// errors.go) in JavaScript, so that the city desk refuses a batch file
// with a mistyped identifier before anything is signed or sent, with the
// reason and position the CLI and the API give. It follows Go step by
// step over the identifier's UTF-8 bytes, since Go's checks and lengths
// count bytes and its positions count characters (runes);
// TestCodeJSAgreesWithGo holds every verdict, reason, position and
// message to Go's. The two tables are codetables.js, made from the Go
// package's.

import { COUNTRIES, SECTORS } from './codetables.js';

// The stable reason codes of code/errors.go that Parse can give.
export const ErrBadCheckChar = 'bad_check_char';
export const ErrUnknownCountry = 'unknown_country';
export const ErrUnknownSector = 'unknown_sector';
export const ErrLeadingZero = 'leading_zero';
export const ErrTooLong = 'too_long';
export const ErrTooShort = 'too_short';
export const ErrEmpty = 'empty';
export const ErrBadChar = 'bad_char';
export const ErrTrailingJunk = 'trailing_junk';

// CodeError is code.Error: reason (its Code), position (1-based, in
// characters of the text parsed; one past the end when something is
// missing there; 0 when the problem has no one place) and detail (its
// Msg). Its message is Go's Error(): "position 10: check character is
// 7, want 1".
export class CodeError extends Error {
  constructor(reason, position, detail) {
    super(position ? `position ${position}: ${detail}` : detail);
    this.name = 'CodeError';
    this.reason = reason;
    this.position = position;
    this.detail = detail;
  }
}

// Lengths fixed by the grammar (DESIGN section 1).
const COUNTRY_LEN = 3;
const CITY_NUMBER_LEN = 6;
const CITY_CODE_LEN = 10;
const SECTOR_LEN = 2;
const MAX_UNIT_LEN = 6;
const MAX_LOCAL_LEN = 64;

const isDigit = (c) => c >= 0x30 && c <= 0x39;
const isLocalChar = (c) => isDigit(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f;
const ascii = (b) => String.fromCharCode(...b);
// Encoders keep no state between calls: one serves every identifier.
const utf8 = new TextEncoder();
const utf8Char = new TextDecoder('utf-8', { ignoreBOM: true });
const count = (n, noun) => (n === 1 ? `1 ${noun}` : `${n} ${noun}s`);

// runePos is the 1-based character position of byte offset i of b.
function runePos(b, i) {
  i = Math.max(0, Math.min(i, b.length));
  let n = 0;
  for (let k = 0; k < i; k++) if ((b[k] & 0xc0) !== 0x80) n++;
  return n + 1;
}

// isPrint is Go's unicode.IsPrint: letters, marks, numbers, punctuation,
// symbols and the ASCII space.
const printRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const isPrint = (r) => r === 0x20 || printRe.test(String.fromCodePoint(r));

// escapeRune writes one character as strconv.Quote and QuoteRune do
// inside the quote character quote.
function escapeRune(r, quote) {
  const hex = (n, w) => n.toString(16).padStart(w, '0');
  if (r === quote.codePointAt(0) || r === 0x5c) return `\\${String.fromCodePoint(r)}`;
  if (isPrint(r)) return String.fromCodePoint(r);
  const named = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' }[r];
  if (named) return named;
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd; // not a character: Go's RuneError
  return r < 0x10000 ? `\\u${hex(r, 4)}` : `\\U${hex(r, 8)}`;
}

// Lone surrogates are not characters: UTF-8 (TextEncoder, and Go's JSON
// decoder) writes each as U+FFFD.
const characters = (s) => Array.from(s, (c) => {
  const r = c.codePointAt(0);
  return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
});

// goQuote is Go's %q of a string (strconv.Quote).
export const goQuote = (s) => `"${characters(s).map((r) => escapeRune(r, '"')).join('')}"`;

// clipChars is s's first n characters (code points) and how many
// characters follow them (0: s is whole), found without splitting all
// of s: an identifier cell of a hostile file can be megabytes long.
export function clipChars(s, n) {
  let i = 0;
  let k = 0;
  for (; i < s.length && k < n; k++) i += s.codePointAt(i) > 0xffff ? 2 : 1;
  if (i >= s.length) return [s, 0];
  let rest = 0;
  for (let j = i; j < s.length; rest++) j += s.codePointAt(j) > 0xffff ? 2 : 1;
  return [s.slice(0, i), rest];
}

// quoteChar is code's quoteChar: the character at byte i of b as a Go
// rune literal ('!', '中', '\u200e').
function quoteChar(b, i) {
  const lead = b[i];
  const n = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  const r = utf8Char.decode(b.subarray(i, i + n)).codePointAt(0);
  return `'${escapeRune(r, "'")}'`;
}

// mod112 is the ISO/IEC 7064 MOD 11-2 check character of ASCII digits.
function mod112(digits) {
  let p = 0;
  for (const d of digits) p = ((p + (d - 0x30)) * 2) % 11;
  const c = (12 - p) % 11;
  return c === 10 ? 'X' : String(c);
}

// A fault is a problem at byte off of one part, before the part's place
// in the identifier is known; checkID places it.
const fault = (code, off, msg) => ({ code, off, msg });

function checkCityCode(f) {
  if (f.length === 0) return fault(ErrEmpty, 0, 'city code is empty');
  for (let i = 0; i < f.length && i < CITY_CODE_LEN; i++) {
    const c = f[i];
    if (i < COUNTRY_LEN && !isDigit(c)) return fault(ErrBadChar, i, `country has character ${quoteChar(f, i)} outside 0-9`);
    if (i < COUNTRY_LEN + CITY_NUMBER_LEN && !isDigit(c)) return fault(ErrBadChar, i, `city number has character ${quoteChar(f, i)} outside 0-9`);
    if (i === CITY_CODE_LEN - 1 && !isDigit(c) && c !== 0x58 && c !== 0x78) return fault(ErrBadChar, i, `check character ${quoteChar(f, i)} is not 0-9 or X`);
  }
  if (f.length < CITY_CODE_LEN) return fault(ErrTooShort, f.length, `city code is ${count(f.length, 'character')}, want 10`);
  if (f.length > CITY_CODE_LEN) {
    if (isDigit(f[CITY_CODE_LEN])) return fault(ErrTooLong, CITY_CODE_LEN, 'city code is longer than 10 characters');
    return fault(ErrTrailingJunk, CITY_CODE_LEN, 'trailing junk after the city code');
  }
  const country = ascii(f.subarray(0, COUNTRY_LEN));
  if (!COUNTRIES.has(country)) return fault(ErrUnknownCountry, 0, `country ${country} is not an ISO 3166-1 numeric code`);
  const got = f[CITY_CODE_LEN - 1] === 0x78 ? 'X' : String.fromCharCode(f[CITY_CODE_LEN - 1]);
  const want = mod112(f.subarray(0, CITY_CODE_LEN - 1));
  if (got !== want) return fault(ErrBadCheckChar, CITY_CODE_LEN - 1, `check character is ${got}, want ${want}`);
  return null;
}

function checkDigits(name, f, n) {
  if (f.length === 0) return fault(ErrEmpty, 0, `${name} is empty`);
  for (let i = 0; i < f.length; i++) {
    if (!isDigit(f[i])) return fault(ErrBadChar, i, `${name} has character ${quoteChar(f, i)} outside 0-9`);
  }
  if (f.length < n) return fault(ErrTooShort, f.length, `${name} is ${count(f.length, 'digit')}, want ${n}`);
  if (f.length > n) return fault(ErrTooLong, n, `${name} is longer than ${count(n, 'digit')}`);
  return null;
}

function checkSector(f) {
  const flt = checkDigits('sector', f, SECTOR_LEN);
  if (flt) return flt;
  const s = ascii(f);
  return SECTORS.has(s) ? null : fault(ErrUnknownSector, 0, `sector ${s} is not an ISIC Rev.4 division`);
}

function checkUnit(f) {
  if (f.length === 0) return fault(ErrEmpty, 0, 'unit is empty');
  if (f.length === 1 && f[0] === 0x30) return fault(ErrLeadingZero, 0, 'unit 0 is not allowed: units start at 1');
  if (f[0] === 0x30) return fault(ErrLeadingZero, 0, 'unit has a leading zero');
  for (let i = 0; i < f.length; i++) {
    if (!isDigit(f[i])) return fault(ErrBadChar, i, `unit has character ${quoteChar(f, i)} outside 0-9`);
  }
  if (f.length > MAX_UNIT_LEN) return fault(ErrTooLong, MAX_UNIT_LEN, 'unit is longer than 6 digits');
  return null;
}

function checkLocal(f) {
  if (f.length === 0) return fault(ErrEmpty, 0, 'local id is empty');
  for (let i = 0; i < f.length; i++) {
    if (!isLocalChar(f[i])) return fault(ErrBadChar, i, `local id has character ${quoteChar(f, i)} outside A-Z a-z 0-9 - _`);
  }
  if (f.length > MAX_LOCAL_LEN) return fault(ErrTooLong, MAX_LOCAL_LEN, 'local id is longer than 64 characters');
  return null;
}

// partEnd is the index of the first '.' or '/' of b at or after i, or
// b.length.
function partEnd(b, i) {
  while (i < b.length && b[i] !== 0x2e && b[i] !== 0x2f) i++;
  return i;
}

// checkID is code.Parse without throwing: {ok: true, id, text, kind},
// or {ok: false, reason, position, detail} for the first problem, left
// to right, each part's form before its meaning. A batch file of a
// million bad rows is checked with it: an Error per row would capture a
// stack each time for nothing.
//
// scratch, if given, is a buffer to encode s into when it fits (at most
// 3 bytes a UTF-16 unit), to spare an allocation per identifier of a
// long file; nothing returned refers to it.
export function checkID(s, scratch = null) {
  const no = (reason, position, detail) => ({ ok: false, reason, position, detail });
  const placed = (f, b, start) => no(f.code, runePos(b, start + f.off), f.msg);
  if (s === '') return no(ErrEmpty, 0, 'identifier is empty');
  const b = scratch && s.length * 3 <= scratch.length ? scratch.subarray(0, utf8.encodeInto(s, scratch).written) : utf8.encode(s);
  let i = partEnd(b, 0);
  let f = checkCityCode(b.subarray(0, i));
  if (f) return placed(f, b, 0);
  // Each part checked is ASCII, and so is all before it: its bytes'
  // offsets are its offsets in s.
  const id = { country: s.slice(0, COUNTRY_LEN), cityNumber: s.slice(COUNTRY_LEN, COUNTRY_LEN + CITY_NUMBER_LEN), sector: '', unit: '', local: '' };
  if (i < b.length && b[i] === 0x2e) {
    let start = i + 1;
    i = partEnd(b, start);
    if ((f = checkSector(b.subarray(start, i)))) return placed(f, b, start);
    id.sector = s.slice(start, i);
    if (i < b.length && b[i] === 0x2e) {
      start = i + 1;
      i = partEnd(b, start);
      if ((f = checkUnit(b.subarray(start, i)))) return placed(f, b, start);
      id.unit = s.slice(start, i);
      if (i < b.length && b[i] === 0x2e) return no(ErrTrailingJunk, runePos(b, i), 'trailing junk after the unit');
    }
  }
  if (i < b.length) { // b[i] is '/'
    const start = i + 1;
    if ((f = checkLocal(b.subarray(start)))) return placed(f, b, start);
    id.local = s.slice(start).toLowerCase(); // ASCII only, checked above
  }
  let text = id.country + id.cityNumber + mod112(b.subarray(0, CITY_CODE_LEN - 1));
  if (id.sector) text += `.${id.sector}`;
  if (id.unit) text += `.${id.unit}`;
  if (id.local) text += `/${id.local}`;
  const kind = id.local ? 'object' : id.unit ? 'unit' : id.sector ? 'sector' : 'city';
  return { ok: true, id, text, kind };
}

// parseID is code.Parse: the identifier's parts, its canonical text and
// its kind ('city', 'sector', 'unit', 'object'), or a CodeError thrown
// for the first problem (checkID).
export function parseID(s) {
  const r = checkID(s);
  if (!r.ok) throw new CodeError(r.reason, r.position, r.detail);
  return { id: r.id, text: r.text, kind: r.kind };
}

// codeErrorText is a CodeError's message for checkID's verdict r.
export const codeErrorText = (r) => (r.position ? `position ${r.position}: ${r.detail}` : r.detail);
