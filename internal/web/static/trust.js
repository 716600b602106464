// trust.js drives /trust?chain=…&height=…&hash=… (what a trust QR code
// holds): it checks that this node's header at that height has that
// hash and is signed by its validators (verify.js's verifyRoot), shows
// the root the browser trusts now for the chain, if any, and pins the
// new one in localStorage (as badge.js pins on first use) only when the
// person presses the button.
import { verifyLightBlock, verifyRoot, VerifyError } from './verify.js';
import { lightBlock, REASON_WORDS } from './badge.js';

const zh = document.documentElement.lang.startsWith('zh');
const say = (en, cn) => (zh ? cn : en);
const root = document.getElementById('trust-root').dataset;
const button = document.getElementById('trust-pin');
const out = document.getElementById('trust-result');
const key = `cityid.trust.${root.chain}`;

function show(kind, lines) {
  out.hidden = false;
  out.className = `badge ${kind}`;
  out.replaceChildren(...lines.filter(Boolean).map((line, i) => {
    const span = document.createElement(i === 0 ? 'strong' : 'span');
    span.textContent = line;
    if (i > 0) span.className = 'root';
    return span;
  }));
}

function pinned() {
  try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch { return null; }
}

const now = pinned();
if (now) {
  show('warn', [say(`This browser trusts chain ${now.chain} from height ${now.height} (header ${now.hash.slice(0, 16)}…, pinned ${now.pinned}).`,
    `本浏览器目前信任链 ${now.chain}，自高度 ${now.height}（区块头 ${now.hash.slice(0, 16)}…，固定于 ${now.pinned}）。`)]);
}
button.disabled = false;
button.addEventListener('click', async () => {
  const before = pinned();
  if (before && before.height > Number(root.height) &&
    !confirm(say(`This browser trusts chain ${before.chain} from height ${before.height}, later than ${root.height}. Go back to the older root?`,
      `本浏览器已从高度 ${before.height} 起信任链 ${before.chain}，晚于 ${root.height}。要退回到较早的信任根吗？`))) return;
  button.disabled = true;
  try {
    const json = await lightBlock(Number(root.height));
    if (!json) throw new VerifyError('height', say(`this node has no header ${root.height}`, `本节点没有高度 ${root.height} 的区块头`));
    const lb = await verifyLightBlock(json, root.chain);
    await verifyRoot(lb, { height: Number(root.height), hash: root.hash }, { chainId: root.chain, now: new Date() });
    localStorage.setItem(key, JSON.stringify({ chain: root.chain, height: Number(root.height), hash: root.hash,
      pinned: new Date().toISOString().slice(0, 19).replace('T', ' ') + ' UTC' }));
    show('verified', [say(`Trusted: this browser checks every answer of chain ${root.chain} from height ${root.height} on.`,
      `已信任：本浏览器自高度 ${root.height} 起验证链 ${root.chain} 的每个应答。`)]);
    out.dataset.verdict = 'pinned';
  } catch (e) {
    const reason = e instanceof VerifyError ? e.reason : 'error';
    show('failed', [say('NOT PINNED: ', '未固定：') + (REASON_WORDS[reason] || e.message)]);
    out.dataset.verdict = `failed:${reason}`;
    button.disabled = false;
  }
});
