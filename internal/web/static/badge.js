// The record page's verification badge. It checks the answer this page
// shows against validators this browser trusts, with verify.js: the
// record's ICS23 proof against the app hash, that app hash in header
// H+1, that header signed by more than 2/3 of a validator set reached
// from the trust root by the light client's rules.
//
// The trust root (chain ID, height, header hash) is pinned in
// localStorage on first use and shown, like an SSH host key; a later
// answer that cannot be reached from it is shown as NOT VERIFIED, never
// trusted anew without the person's say (the "trust this node again"
// button). Nothing the node says is taken on its word but the blocks and
// proofs verify.js checks; the page's server-rendered record stays
// correct without this script.
import { verifyAnswer, verifyLightBlock, VerifyError, toHex } from './verify.js';

const el = document.getElementById('badge');
const zh = (el?.dataset.lang ?? document.documentElement.lang).startsWith('zh');
const say = (en, cn) => (zh ? cn : en);

// Words for each failure class of verify.js (its REASONS).
export const REASON_WORDS = {
  trust_root: say('this node\'s block at the trusted height is not the one this browser trusted: another chain, or a node that lies', '本节点在受信任高度上的区块与本浏览器所信任的不同：另一条链，或节点作假'),
  expired: say('the trusted header is older than the trusting period (14 days)', '受信任的区块头已超过信任期（14 天）'),
  trust_level: say('too few of the trusted validators signed the change of validator set', '受信任的验证者中签名者太少，无法衔接验证者集合的变化'),
  not_enough_power: say('the header is not signed by more than 2/3 of its validators', '区块头未获超过 2/3 验证者签名'),
  signature: say('a validator\'s signature is wrong', '验证者签名错误'),
  app_hash: say('the answer\'s state is not the one the header signs', '应答的状态与区块头签名的不一致'),
  root_mismatch: say('the proof does not lead to the signed state', '证明与已签名的状态不符'),
  value_mismatch: say('the value is not the one proved', '值与证明不符'),
  record_mismatch: say('the record shown is not the one proved', '显示的记录与证明不符'),
  chain_id: say('the blocks are of another chain', '区块属于另一条链'),
  wrong_id: say('the answer is about another identifier', '应答针对的是另一个标识'),
};

const MAX_WAIT_MS = 8000; // header H+1 follows H within a block or two

// getJSON reads a JSON answer, and a problem's body too (an unknown
// identifier's 404 holds the proof of its absence).
async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  if (resp.ok || resp.status === 404) {
    try { body = await resp.json(); } catch { body = null; }
  }
  return { status: resp.status, body: resp.ok || body?.proof ? body : null };
}

// lightBlock fetches /v1/light/{h}, waiting a little for a header that
// is not made yet; null when the node does not have it.
export async function lightBlock(h) {
  const until = Date.now() + MAX_WAIT_MS;
  for (;;) {
    const { status, body } = await getJSON(`/v1/light/${h}`);
    if (status === 200) return body;
    if (status !== 404 || Date.now() > until) return null;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function show(kind, lines) {
  el.classList.remove('verified', 'failed', 'warn');
  el.classList.add(kind);
  const text = el.querySelector('.badge-text');
  text.textContent = '';
  lines.forEach((line, i) => {
    const span = document.createElement('span');
    span.textContent = line;
    if (i > 0) span.className = 'root';
    text.append(span);
  });
}

export function rootLine(root) {
  return say(`Trust root: chain ${root.chain}, height ${root.height}, header ${root.hash.slice(0, 16)}…, pinned ${root.pinned}`,
    `信任根：链 ${root.chain}，高度 ${root.height}，区块头 ${root.hash.slice(0, 16)}…，固定于 ${root.pinned}`);
}

export async function verifierLine() {
  try {
    const src = await (await fetch('/static/verify.js', { cache: 'no-store' })).arrayBuffer();
    const sum = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', src)));
    return say(`Verifier verify.js SHA-256 ${sum.slice(0, 16)}…`, `验证程序 verify.js SHA-256 ${sum.slice(0, 16)}…`);
  } catch {
    return '';
  }
}

// checkAnswer checks answer (a record with its proof, or the problem of an
// identifier not registered with the proof of its absence) about id on
// chain chainId, from the trust root this browser pinned for the chain,
// pinning one on first use. It returns verify.js's verdict, the root and
// whether it was pinned now; it throws VerifyError.
export async function checkAnswer(answer, id, chainId) {
  const key = `cityid.trust.${chainId}`;
  const p = answer?.proof;
  if (!p) throw new VerifyError('malformed', 'the answer holds no proof');
  let root = null;
  try { root = JSON.parse(localStorage.getItem(key) || 'null'); } catch { root = null; }
  let firstUse = false;
  if (!root) {
    // First use: trust the header that signs this answer, and say so.
    const json = await lightBlock(p.header_height);
    if (!json) throw new VerifyError('height', `no header ${p.header_height}`);
    const lb = await verifyLightBlock(json, chainId);
    root = { chain: chainId, height: Number(lb.header.height), hash: toHex(lb.hash), pinned: new Date().toISOString().slice(0, 19).replace('T', ' ') + ' UTC' };
    localStorage.setItem(key, JSON.stringify(root));
    firstUse = true;
  }
  if (root.height > p.header_height) {
    throw new VerifyError('height', `the answer (height ${p.height}) is older than the trust root ${root.height}`);
  }
  const rootBlock = await lightBlock(root.height);
  if (!rootBlock) throw new VerifyError('trust_root', `this node no longer serves the trusted block ${root.height}`);
  const v = await verifyAnswer({
    trust: { height: root.height, hash: root.hash }, blocks: [rootBlock], answer, id, chainId,
    now: new Date(), fetch: lightBlock,
  });
  return { v, root, firstUse };
}

// verdictLine is what a verdict says, in the page's language.
export function verdictLine(v) {
  const when = v.headerTime.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  return v.exists
    ? say(`Verified at height ${v.height}, ${when}, by validators ${v.signers} of ${v.validators}`,
      `已验证：高度 ${v.height}，${when}，${v.validators} 名验证者中 ${v.signers} 名签名`)
    : say(`Verified absent at height ${v.height}, ${when}, by validators ${v.signers} of ${v.validators}: no record holds this identifier`,
      `已验证不存在：高度 ${v.height}，${when}，${v.validators} 名验证者中 ${v.signers} 名签名，账本中没有此标识`);
}

function repinButton(key) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'repin';
  b.textContent = say('Trust this node\'s chain again', '重新信任本节点的链');
  b.addEventListener('click', () => { localStorage.removeItem(key); run(); });
  el.append(b);
}

async function run() {
  el.querySelector('.repin')?.remove();
  const id = el.dataset.id;
  const chainId = el.dataset.chain;
  const key = `cityid.trust.${chainId}`;
  show('warn', [say('Checking the proof…', '正在验证证明…')]);
  try {
    const { body: answer } = await getJSON(`/v1/ids/${id}?proof=true`);
    const { v, root, firstUse } = await checkAnswer(answer, id, chainId);
    const lines = [verdictLine(v)];
    if (firstUse) lines.push(say('First visit: this browser now trusts this chain from here on.', '首次访问：本浏览器自此信任此链。'));
    lines.push(rootLine(root), await verifierLine());
    show('verified', lines.filter(Boolean));
    el.dataset.verdict = 'verified';
  } catch (e) {
    const reason = e instanceof VerifyError ? e.reason : 'error';
    let root = null;
    try { root = JSON.parse(localStorage.getItem(key) || 'null'); } catch { root = null; }
    show('failed', [say('NOT VERIFIED: ', '未通过验证：') + (REASON_WORDS[reason] || e.message),
      root ? rootLine(root) : '', await verifierLine()].filter(Boolean));
    el.dataset.verdict = `failed:${reason}`;
    if (root && (reason === 'trust_root' || reason === 'expired' || reason === 'trust_level')) repinButton(key);
  }
}

if (el && el.dataset.id && el.dataset.chain && window.crypto?.subtle) run();
