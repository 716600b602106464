// data.js: the portal's side of data sharing (docs/data-sharing.md), as
// the CLI's `cityid data put|get|log` do it, without the page: uploads
// in signed, resumable chunks, downloads checked against the SHA-256 the
// ledger holds before a byte is offered, and the access log checked
// against the ledger's anchors. Requests go to the node at `base`: ''
// is this page's own (the record page and the desk use it). Another
// city's node may be asked as well: every node answers CORS on
// /v1/data and /v1/access-log for any origin (internal/api's
// middleware.go: the Signature, Signature-Input, Range, If-Range and
// Content-Range fields allowed, CityID-Access-Log, Range and the
// digests exposed, no credentials: the signature is what lets a request
// in), and httpsig.js signs @authority and @target-uri from the URL asked,
// so they are what that node sees.
// Every refusal is a DataRefused with the node's stable code and words.

import { signedFetch } from './httpsig.js';
import { Sha256 } from './sha256.js';
import { verify, checkSignatures } from './accesslog.js';

const zh = () => (globalThis.document?.documentElement.lang ?? '').startsWith('zh');
const t = (en, cn) => (zh() ? cn : en);

// UPLOAD_CHUNK is how many bytes one PUT carries (client.UploadChunk is
// 64 MiB; the browser holds a chunk in memory while it sends it, so a
// smaller one): an interrupted upload loses at most this much.
export const UPLOAD_CHUNK = 16 << 20;
const HELD = 64 << 20; // downloaded bytes gathered into one Blob part at a time

const escapeID = (id) => id.split('/').map(encodeURIComponent).join('/');

// Words for a refusal's code, and the signature's reason when the code
// is bad_signature.
const WORDS = {
  no_grant: ['no grant: this key\'s node holds no grant for the dataset (ask its city for one), or the key is no admin of the node that does', '无授权：此密钥所属节点没有该数据集的授权（请向其城市申请），或此密钥不是持有授权节点的管理员'],
  grant_revoked: ['the grant was revoked', '授权已被撤销'],
  grant_expired: ['the grant has expired: ask for it to be renewed', '授权已过期：请申请续期'],
  grant_inactive: ['deactivated: the dataset, the grantee node or a node above either is deactivated', '已停用：数据集、被授权节点或其上级已停用'],
  signature_required: ['the dataset is not public: choose a key to sign with', '该数据集不公开：请选择签名密钥'],
  bad_signature: ['bad signature: the node refused the request\'s signature', '签名错误：节点拒绝了请求的签名'],
  unauthorized: ['this key may not: it is no admin of the dataset', '此密钥无权：它不是该数据集的管理员'],
  not_a_dataset: ['the identifier holds no dataset', '该标识不含数据集'],
  data_not_here: ['this node does not hold the bytes', '本节点没有该数据'],
  digest_mismatch: ['the bytes do not hash to the SHA-256 on the ledger', '数据与账本上的 SHA-256 不符'],
  upload_offset: ['the upload moved on elsewhere: try again', '上传进度已变化：请重试'],
  rate_limited: ['the node is busy (too many requests, or too many keys signing at once): try again in a few minutes', '节点繁忙（请求过多，或同时签名的密钥过多）：请几分钟后重试'],
  access_log_held: ['the node holds this dataset: its access log no longer matches what was anchored on the ledger, so nothing is served until its operator repairs it', '节点暂停了该数据集：其访问日志与账本上的锚定不符，运营方修复前不提供数据'],
};
const CLOCK = ['clock skew: this computer\'s clock and the node\'s differ by more than allowed (set both by NTP)', '时钟偏差：本机与节点的时钟相差过大（请用 NTP 校时）'];

export class DataRefused extends Error {
  constructor(status, problem) {
    const code = problem.code || `http_${status}`;
    const w = WORDS[code];
    let words = w ? t(...w) : t('refused', '被拒绝');
    if (problem.reason === 'signature_stale' || problem.reason === 'signature_future') words += ` (${t(...CLOCK)})`;
    super(`${words} (${code}${problem.reason ? `: ${problem.reason}` : ''}): ${problem.detail || ''}`.replace(/: $/, ''));
    this.name = 'DataRefused';
    this.status = status;
    this.code = code;
    this.reason = problem.reason || '';
    this.problem = problem;
  }
}

async function refused(resp) {
  let p = {};
  try { p = await resp.json(); } catch { p = {}; }
  return new DataRefused(resp.status, p && typeof p === 'object' ? p : {});
}

// putAnswer reads an answer to a PUT: an UploadAnswer ({received,
// complete, ...}). An incomplete upload's 308 says where to go on in its
// Range field (bytes=0-LAST, none when nothing is held), which rules
// over the body's count.
async function putAnswer(resp) {
  if (resp.status !== 200 && resp.status !== 201 && resp.status !== 308) throw await refused(resp);
  const ans = await resp.json();
  if (resp.status === 308) {
    const m = /^bytes=0-(\d+)$/.exec(resp.headers.get('Range') || '');
    ans.received = m ? Number(m[1]) + 1 : 0;
  }
  return ans;
}

// upload sends file's bytes as dataset id's, signed with key, to the
// node at base ('' for this page's): it asks first how much the node
// holds, so an interrupted upload resumes where it stopped, then sends
// the rest in chunks read one at a time from the file. onProgress is
// told the bytes the node holds.
export async function upload({ base = '', id, file, key, pubKey, chunk = UPLOAD_CHUNK, onProgress = () => {} }) {
  const url = `${base}/v1/data/${escapeID(id)}`;
  const put = (headers, body) => signedFetch(url, { method: 'PUT', headers, body }, key, pubKey).then(putAnswer);
  if (file.size === 0) return put({ 'Content-Type': 'application/octet-stream' }, new Uint8Array(0));
  const status = () => put({ 'Content-Range': `bytes */${file.size}` }, null);
  let ans = await status();
  onProgress(ans.received);
  while (!ans.complete) {
    const off = ans.received;
    const end = Math.min(off + chunk, file.size);
    try {
      ans = await put({ 'Content-Range': `bytes ${off}-${end - 1}/${file.size}`, 'Content-Type': 'application/octet-stream' }, file.slice(off, end));
    } catch (e) {
      // upload_offset: another upload moved on, or the chunk was taken
      // after all; a cut connection: ask where to go on from.
      if (e instanceof DataRefused && e.code !== 'upload_offset') throw e;
      ans = await status();
    }
    onProgress(ans.received);
    if (!ans.complete && ans.received <= off) throw new Error(t(`the node took none of the chunk at byte ${off}`, `节点未接收从第 ${off} 字节起的数据块`));
  }
  return ans;
}

// download fetches dataset id's bytes from the node at base, signed with
// key when given (anonymous otherwise: a public dataset), and checks
// their size and SHA-256 against dataset (the DATA value the badge
// verified on the ledger) as they arrive. A cut connection resumes with
// a Range request for the rest (If-Range: the same bytes). It returns a
// Blob only when every check holds, and the node's receipt of the access
// log entry; otherwise it throws, and nothing is offered.
export async function download({ base = '', id, index = 0, dataset, key = null, pubKey = '', onProgress = () => {} }) {
  const url = `${base}/v1/data/${escapeID(id)}${index ? `?index=${index}` : ''}`;
  const hash = new Sha256();
  const parts = [];
  let held = [];
  let heldBytes = 0;
  let got = 0;
  let receipt = '';
  const etag = `"sha256:${dataset.sha256}"`;
  for (let attempt = 0; got < dataset.size || attempt === 0; attempt++) {
    if (attempt > 3) throw new Error(t(`the download stopped at byte ${got} of ${dataset.size}`, `下载在第 ${got} / ${dataset.size} 字节处中断`));
    const headers = got > 0 ? { Range: `bytes=${got}-`, 'If-Range': etag } : {};
    const resp = await signedFetch(url, { headers }, key, pubKey);
    if (resp.status !== 200 && resp.status !== 206) {
      const e = await refused(resp);
      // A node that cut an answer short because the bytes on its disk
      // no longer hash right quarantines them: say what happened first.
      if (got > 0) e.message = t(`The answer was cut short at byte ${got} of ${dataset.size}, then: `, `应答在第 ${got} / ${dataset.size} 字节处中断，随后：`) + e.message;
      throw e;
    }
    if (resp.status === 200 && got > 0) throw new Error(t('the node sent the whole again: the bytes changed', '节点重新发送了全部数据：数据已变化'));
    receipt = resp.headers.get('CityID-Access-Log') || receipt;
    const reader = resp.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (got + value.length > dataset.size) throw new Error(t('the node sent more bytes than the ledger says', '节点发送的字节多于账本所记'));
        hash.update(value);
        held.push(value);
        heldBytes += value.length;
        got += value.length;
        if (heldBytes >= HELD) {
          // A Blob of the bytes so far lets the browser keep them out of
          // the page's memory (Chromium moves big blobs to disk).
          parts.push(new Blob(held));
          held = [];
          heldBytes = 0;
        }
        onProgress(got);
      }
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // a cut connection is a TypeError: resume
    }
  }
  parts.push(new Blob(held));
  const sum = hash.hex();
  if (got !== dataset.size || sum !== dataset.sha256.toLowerCase()) {
    throw new DataRefused(0, { code: 'digest_mismatch', detail: t(`received ${got} bytes hashing to ${sum}; the ledger says ${dataset.size} bytes, ${dataset.sha256}`, `收到 ${got} 字节，SHA-256 ${sum}；账本为 ${dataset.size} 字节，${dataset.sha256}`) });
  }
  return { blob: new Blob(parts, { type: dataset.media_type || 'application/octet-stream' }), sha256: sum, receipt };
}

// readLog reads dataset id's whole access log from the node at base
// (signed with key, an admin's) and its anchors, and checks one against
// the other (accesslog.js's verify), and every request let in against
// its signature (httpsig.js's recordedSignature): {entries, anchors,
// report}, report.signed counting the signatures checked.
export async function readLog({ base = '', id, key, pubKey, limit = 1000 }) {
  const entries = [];
  for (let after = 0; ;) {
    const resp = await signedFetch(`${base}/v1/access-log/${escapeID(id)}?after=${after}&limit=${limit}`, { headers: { Accept: 'application/json' } }, key, pubKey);
    if (!resp.ok) throw await refused(resp);
    const page = await resp.json();
    entries.push(...page.items);
    if (!page.next || page.items.length === 0) break;
    // Counted in lines, as the node reads them: a seq altered on disk
    // must not bend the paging before verify sees it.
    after += page.items.length;
  }
  const anchors = [];
  for (let after = '0'; ;) {
    const resp = await fetch(`${base}/v1/anchors/${escapeID(id)}?after=${after}&limit=1000`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!resp.ok) throw await refused(resp);
    const page = await resp.json();
    anchors.push(...page.anchors);
    if (!page.next) break;
    after = page.next;
  }
  const report = verify(entries, anchors.map((a) => ({ entries: a.entries, head: a.head })));
  // Every request let in was signed by its key, once, as `cityid data
  // log` checks (accesslog.js's checkSignatures).
  const sigs = await checkSignatures(entries);
  report.signed = sigs.signed;
  if (report.ok && !sigs.ok) Object.assign(report, { ok: false, code: 'bad_signature', at: sigs.at, problem: sigs.problem });
  return { entries, anchors, report };
}
