// verify-page.js drives /verify: a person gives a saved answer (the body
// of GET /v1/ids/{id}?proof=true from any node, or what `cityid resolve
// --proof --json` printed: a record with its proof, or the problem of an
// identifier not registered with the proof of its absence) and sees it
// checked here, with the badge's check (badge.js) against the trust root
// this browser pinned for this node's chain.
import { checkAnswer, verdictLine, rootLine, verifierLine, REASON_WORDS } from './badge.js';
import { VerifyError } from './verify.js';

const zh = document.documentElement.lang.startsWith('zh');
const say = (en, cn) => (zh ? cn : en);
const form = document.getElementById('verify');
const out = document.getElementById('verify-result');

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

// idOf is the identifier an answer is about: its record's, or the one
// its proof's key names (id/<identifier>).
function idOf(answer) {
  if (answer?.record?.id) return answer.record.id;
  try {
    const key = atob(answer?.proof?.key ?? '');
    if (key.startsWith('id/')) return new TextDecoder().decode(Uint8Array.from(key.slice(3), (c) => c.charCodeAt(0)));
  } catch {
    // no key to read
  }
  return '';
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  show('warn', [say('Checking the proof…', '正在验证证明…')]);
  let answer;
  try {
    const file = form.elements.namedItem('file').files[0];
    const text = file ? await file.text() : form.elements.namedItem('answer').value;
    answer = JSON.parse(text);
  } catch {
    show('failed', [say('This is not a saved answer: expected the JSON of GET /v1/ids/{id}?proof=true.', '这不是保存的应答：应为 GET /v1/ids/{id}?proof=true 的 JSON。')]);
    return;
  }
  const id = form.elements.namedItem('id').value.trim() || idOf(answer);
  try {
    const status = await (await fetch('/v1/status')).json();
    const { v, root, firstUse } = await checkAnswer(answer, id, status.chain_id);
    show('verified', [`${id}: ${verdictLine(v)}`,
      firstUse ? say('First use: this browser now trusts this chain from here on.', '首次使用：本浏览器自此信任此链。') : '',
      rootLine(root), await verifierLine()]);
    out.dataset.verdict = 'verified';
  } catch (e) {
    const reason = e instanceof VerifyError ? e.reason : 'error';
    show('failed', [say('NOT VERIFIED: ', '未通过验证：') + (REASON_WORDS[reason] || e.message), await verifierLine()]);
    out.dataset.verdict = `failed:${reason}`;
  }
});
form.querySelector('fieldset').disabled = false;
