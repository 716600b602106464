// dataset.js: the record page of a dataset (an identifier with a DATA
// value). "Download and verify" signs a GET of its bytes with a key of
// this browser (or none, for a public dataset), checks the record with
// its proof as the badge does (badge.js, verify.js), and offers the file
// to save only when the bytes' size and SHA-256 are the DATA value's on
// the ledger; a refusal says why in words. "Access log" reads the
// dataset's log (its admins only) and checks it against the anchors on
// the ledger (accesslog.js). Every text from the node is put in the page
// as text.

import * as keys from './keys.js';
import { checkAnswer, lightBlock, REASON_WORDS } from './badge.js';
import { VerifyError, verifyLightBlock, verifyRoot, bisect, verifyProof, fromBase64, toHex } from './verify.js';
import { download, readLog } from './data.js';
import { verify as verifyLog } from './accesslog.js';

const box = document.getElementById('dataset');
const zh = document.documentElement.lang.startsWith('zh');
const t = (en, cn) => (zh ? cn : en);
const $ = (id) => document.getElementById(id);
// plural is n with the English noun that agrees with it ("1 anchor", "2 anchors").
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const LAST_KEY = 'cityid.lastKey';

function say(message, kind = '') {
  const p = $('data-status');
  p.textContent = message;
  p.className = kind;
}

async function chosenKey() {
  const name = $('dataset-key').value;
  if (!name) return { key: null, pubKey: '' };
  const k = (await keys.listKeys()).find((x) => x.name === name);
  if (!k) throw new Error(t('That key is no longer in this browser.', '该密钥已不在本浏览器中。'));
  return { key: { privateKey: k.privateKey, publicKey: k.publicKey }, pubKey: k.pub_key };
}

// verified is the first DATA value of the record as proved to this
// browser's trust root: the SHA-256 the bytes are checked against comes
// from a proof, not from the node's word.
async function verified(id, chainId) {
  const resp = await fetch(`/v1/ids/${id}?proof=true`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
  const answer = await resp.json();
  let v;
  try {
    ({ v } = await checkAnswer(answer, id, chainId));
  } catch (e) {
    if (e instanceof VerifyError) throw new Error(t('NOT VERIFIED: ', '未通过验证：') + (REASON_WORDS[e.reason] || e.message));
    throw e;
  }
  const value = answer.record.values.find((x) => x.dataset);
  if (!value) throw new Error(t('The record holds no dataset.', '该记录不含数据集。'));
  return { dataset: value.dataset, height: v.height };
}

function guard(f) {
  return async () => {
    const controls = $('dataset-controls');
    controls.disabled = true;
    try {
      await f();
    } catch (e) {
      say(e && e.message ? e.message : String(e), 'bad');
    } finally {
      controls.disabled = false;
    }
  };
}

const fileName = (id, ds) => {
  const base = id.split('/').pop() || id;
  const ext = { 'text/csv': '.csv', 'application/json': '.json', 'text/plain': '.txt', 'application/pdf': '.pdf', 'application/zip': '.zip' }[ds.media_type] || '';
  return base.includes('.') ? base : base + ext;
};

async function getData() {
  const { id, chain } = box.dataset;
  const save = $('data-save');
  if (save.href) URL.revokeObjectURL(save.href);
  save.hidden = true;
  save.removeAttribute('href');
  say(t('Checking the record\'s proof…', '正在验证记录的证明…'));
  const { dataset, height } = await verified(id, chain);
  const { key, pubKey } = await chosenKey();
  const bar = $('data-progress');
  bar.hidden = false;
  bar.max = Math.max(dataset.size, 1);
  bar.value = 0;
  say(t('Downloading…', '正在下载…'));
  const got = await download({ id, dataset, key, pubKey, onProgress: (n) => { bar.value = n; } });
  bar.value = bar.max;
  save.href = URL.createObjectURL(got.blob);
  save.download = fileName(id, dataset);
  save.textContent = t(`Save ${save.download} (${dataset.size} bytes)`, `保存 ${save.download}（${dataset.size} 字节）`);
  save.hidden = false;
  say(t(`Verified: ${dataset.size} bytes, SHA-256 ${got.sha256}, as the ledger says at height ${height}.`,
    `已验证：${dataset.size} 字节，SHA-256 ${got.sha256}，与账本（高度 ${height}）一致。`) +
    (got.receipt ? ` ${t('Access log receipt', '访问日志回执')}: ${got.receipt}` : ''), 'ok');
}

// provedAnchor is the dataset's latest anchor as the ledger holds it,
// checked with its proof against a header reached from this browser's
// trust root (as verifyAnswer checks a record): {entries, head, height},
// or null when the ledger proves there is none. The log's hash chain
// links every entry before it, so a log that agrees with the proved
// latest anchor holds every entry it covers as the ledger fixed them.
async function provedAnchor(id, chainId) {
  const resp = await fetch(`/v1/anchors/${id}?proof=true&limit=1`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!resp.ok) throw new Error(`GET /v1/anchors/${id}: HTTP ${resp.status}`);
  const answer = await resp.json();
  const p = answer.proof;
  if (!p) throw new VerifyError('malformed', 'the anchors answer holds no proof');
  const root = JSON.parse(localStorage.getItem(`cityid.trust.${chainId}`) || 'null');
  if (!root) throw new VerifyError('trust_root', 'no trust root pinned');
  const opts = { chainId, now: new Date() };
  const rootJSON = await lightBlock(root.height);
  if (!rootJSON) throw new VerifyError('trust_root', `this node no longer serves the trusted block ${root.height}`);
  const last = await verifyLightBlock(rootJSON, chainId);
  await verifyRoot(last, root, opts);
  if (p.header_height !== p.height + 1) throw new VerifyError('height', `proof of height ${p.height} names header ${p.header_height}`);
  const json = await lightBlock(p.header_height);
  if (!json) throw new VerifyError('height', `no block ${p.header_height} to sign the answer`);
  const target = await verifyLightBlock(json, chainId);
  if (target.header.height > last.header.height) await bisect(last, target, lightBlock, opts);
  else if (toHex(target.hash) !== toHex(last.hash)) throw new VerifyError('height', `the answer (header ${p.header_height}) is older than the trust root ${root.height}`);
  if (String(p.app_hash).toUpperCase() !== toHex(target.header.appHash)) throw new VerifyError('app_hash', 'the answer\'s app hash is not the signed header\'s');
  const key = fromBase64(p.key);
  if (new TextDecoder().decode(key) !== `anchorhead/${id}`) throw new VerifyError('wrong_id', 'the proof is about another key');
  const common = { type: p.type, root: target.header.appHash, key, proof: fromBase64(p.proof) };
  if (p.value == null) {
    await verifyProof({ ...common, absent: true });
    return null;
  }
  const value = fromBase64(p.value);
  await verifyProof({ ...common, value });
  const proved = JSON.parse(new TextDecoder().decode(value));
  return { entries: proved.entries, head: proved.head, height: p.height };
}

const short = (s, n = 12) => (s && s.length > n ? `${s.slice(0, n)}…` : s || '');

async function showLog() {
  const { id } = box.dataset;
  const { key, pubKey } = await chosenKey();
  if (!key) throw new Error(t('Choose an admin key of the dataset to read its log.', '请选择数据集的管理员密钥以读取日志。'));
  // The latest anchor is proved first, then the log read: the log then
  // holds every entry the anchor counts.
  say(t('Checking the latest anchor\'s proof…', '正在验证最新锚定的证明…'));
  await verified(id, box.dataset.chain); // pins the trust root on a first visit
  let latest;
  try {
    latest = await provedAnchor(id, box.dataset.chain);
  } catch (e) {
    if (e instanceof VerifyError) throw new Error(t('The latest anchor is NOT VERIFIED: ', '最新锚定未通过验证：') + (REASON_WORDS[e.reason] || e.message));
    throw e;
  }
  say(t('Reading the access log…', '正在读取访问日志…'));
  const { entries, anchors, report: listed } = await readLog({ id, key, pubKey });
  const report = listed.ok && latest ? verifyLog(entries, [latest]) : listed;
  const verdict = $('data-log-verdict');
  if (report.ok) {
    const proved = latest
      ? t(` The latest anchor, ${latest.entries} entries, is proved on the ledger at height ${latest.height}.`, `最新锚定（${latest.entries} 条）已在账本高度 ${latest.height} 得到证明。`)
      : t(' The ledger proves no anchor yet.', '账本证明尚无锚定。');
    verdict.textContent = t(`Chain whole: ${plural(report.entries, 'entry', 'entries')}, each hash recomputed; ${plural(anchors.length, 'anchor', 'anchors')} on the ledger, every one the entry it names (anchored through entry ${Math.max(listed.anchored, report.anchored)}); ${plural(listed.signed, 'request', 'requests')} let in, each signed by the key it names.`,
      `链完整：${report.entries} 条记录，哈希逐条复核；账本上 ${anchors.length} 个锚定，均与所指记录一致（已锚定至第 ${Math.max(listed.anchored, report.anchored)} 条）；放行的 ${listed.signed} 个请求均由所记密钥签名。`) + proved;
    verdict.className = 'ok';
  } else {
    verdict.textContent = t(`NOT VERIFIED (${report.code}, entry ${report.at}): ${report.problem}`, `未通过验证（${report.code}，第 ${report.at} 条）：${report.problem}`);
    verdict.className = 'bad';
  }
  verdict.dataset.verdict = report.ok ? 'ok' : report.code;
  // The result first, the request's details after: a phone shows the
  // first columns, the rest scroll.
  const head = ['#', t('Time', '时间'), t('Result', '结果'), t('Key', '密钥'), t('Grantee', '被授权方'), t('Bytes', '字节'), t('Request', '请求')];
  const table = $('data-log-table');
  const th = document.createElement('tr');
  for (const h of head) {
    const c = document.createElement('th');
    c.textContent = h;
    th.append(c);
  }
  table.tHead.replaceChildren(th);
  // The newest first, at most 200 rows shown; all were checked.
  const rows = entries.slice(-200).reverse().map((e) => {
    const tr = document.createElement('tr');
    for (const v of [String(e.seq), (e.time || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z'), `${e.status} ${e.result}`, short(e.key) || t('anonymous', '匿名'), e.grantee || '',
      String(e.bytes), `${e.method} ${e.range || ''}`.trim()]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  $('data-log-box').hidden = false;
  say(t(`Access log read: ${entries.length} entries.`, `已读取访问日志：${entries.length} 条。`), report.ok ? 'ok' : 'bad');
}

async function init() {
  const sel = $('dataset-key');
  const list = await keys.listKeys();
  for (const k of list) {
    const o = document.createElement('option');
    o.value = k.name;
    o.textContent = `${k.name} (${k.pub_key.slice(0, 12)}…)`;
    sel.append(o);
  }
  const last = localStorage.getItem(LAST_KEY);
  if (last && list.some((k) => k.name === last)) sel.value = last;
  sel.addEventListener('change', () => localStorage.setItem(LAST_KEY, sel.value));
  $('data-get').addEventListener('click', guard(getData));
  $('data-log').addEventListener('click', guard(showLog));
  $('dataset-controls').disabled = false;
}

if (box && window.crypto?.subtle) init().catch((e) => say(e.message || String(e), 'bad'));
