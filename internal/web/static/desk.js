// desk.js drives the pages where a person signs: /keys, /apply,
// /authority and /desk. The server renders their forms; this module
// fills the key choosers from this browser's keys (keys.js), signs and
// sends with sign.js, uploads batch files with batch.js, and says what
// happened in the page's language. Every text a person or the ledger
// wrote is put in the page as text (textContent), never as markup.

import * as keys from './keys.js';
import { sendTx, TxRefused } from './sign.js';
import { checkBatchFile, decodeBatchFile, upload, BatchCheckError, NotUTF8Error } from './batch.js';
import { clipChars } from './code.js';
import { hashFile } from './sha256.js';
import { upload as uploadData, DataRefused } from './data.js';

const zh = document.documentElement.lang.startsWith('zh');
const t = (en, zhText) => (zh ? zhText : en);
const $ = (sel, root = document) => root.querySelector(sel);
// field is a form's control by name: form.name and form.id are the form's
// own attributes, not its controls.
const field = (form, name) => form.elements.namedItem(name);
const val = (form, name) => field(form, name).value.trim();

function say(message, kind = '') {
  const el = $('#desk-status');
  if (!el) return;
  el.textContent = message;
  el.className = kind;
}

// el makes an element with text children (strings) or elements.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// The words for a refusal's code: what went wrong, for a person.
const REFUSALS = {
  unauthorized: ['This key may not do that: it is not an admin of the identifier (or a member of the authority).', '此密钥无权执行该操作：它不是该标识的管理员（或管理机构成员）。'],
  version_mismatch: ['Someone changed this record since you loaded it: load it again to see their change, then edit.', '自您读取后，该记录已被他人修改：请重新读取查看修改后再编辑。'],
  exists: ['Already registered.', '已注册。'],
  invalid_id: ['An identifier does not parse.', '标识格式错误。'],
  not_found: ['Not found on the ledger.', '账本中不存在。'],
  inactive: ['The record or its parent is deactivated.', '该记录或其上级已停用。'],
  duplicate_city: ['A city or pending application already has this country and city number.', '已有城市或待审批申请使用该国家和城市编号。'],
  duplicate_locode: ['A city or pending application already has this UN/LOCODE.', '已有城市或待审批申请使用该联合国地名代码。'],
  already_voted: ['This key has already voted on it.', '此密钥已投过票。'],
  already_decided: ['It is decided already.', '已经决定。'],
  timeout: ['Sent, but not committed in time: it may still be; look it up by its hash.', '已发送，但未及时上链：可能稍后上链，请按哈希查询。'],
};

// The words for what is wrong with a batch file's identifier: code's
// reasons (code.js) and batch.js's own.
const BAD_ROW = {
  bad_check_char: ['The check character does not match the nine digits before it: a digit mistyped?', '校验码与前九位数字不符：是否输错了数字？'],
  unknown_country: ['The country is not an ISO 3166-1 numeric code.', '国家不是 ISO 3166-1 数字代码。'],
  unknown_sector: ['The sector is not an ISIC Rev.4 division.', '行业不是 ISIC Rev.4 大类代码。'],
  leading_zero: ['The unit starts with 0.', '单位编号以 0 开头。'],
  too_long: ['A part is too long.', '某一部分过长。'],
  too_short: ['A part is too short.', '某一部分过短。'],
  empty: ['A part is empty.', '某一部分为空。'],
  bad_char: ['A character that may not stand there.', '此处不允许该字符。'],
  trailing_junk: ['Something follows where nothing may.', '末尾有多余的字符。'],
  not_an_object: ['A city, sector or unit: a batch registers objects, <node>/<local-id>.', '这是城市、行业或单位：批量上传只登记对象（<节点>/<本地编号>）。'],
  duplicate: ['Given twice: an earlier row has it.', '重复：前面的行已有该标识。'],
};

// SHOWN is how many characters of an identifier a bad row shows on
// each side of its mark: a hostile file's identifier of megabytes would
// otherwise go into the page whole.
const SHOWN = 100;

// markAt is id in a code element, its character at position (1-based,
// in characters) marked; one past the end marks a space, as the search
// page's error does (portal.go's splitAt). A long id is clipped to SHOWN
// characters before and after the mark, with '…' where it is cut.
function markAt(id, position) {
  if (position < 1) {
    const [head, rest] = clipChars(id, SHOWN);
    return el('code', {}, rest ? `${head}…` : head);
  }
  const [pre] = clipChars(id, position - 1);
  const tail = id.slice(pre.length);
  // The SHOWN characters before the mark, found from the end of pre.
  let i = pre.length;
  for (let k = 0; i > 0 && k < SHOWN; k++) {
    i--;
    const low = pre.charCodeAt(i);
    const high = pre.charCodeAt(i - 1); // NaN before the start
    if (low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff) i--; // a pair is one character
  }
  const at = tail === '' ? ' ' : String.fromCodePoint(tail.codePointAt(0));
  const [after, more] = clipChars(tail.slice(tail === '' ? 0 : at.length), SHOWN);
  return el('code', {}, (i > 0 ? '…' : '') + pre.slice(i), el('mark', {}, at), more ? `${after}…` : after);
}

function explain(e) {
  if (e instanceof DataRefused) return e.message;
  if (e instanceof TxRefused) {
    const words = REFUSALS[e.code];
    return `${words ? t(...words) : t('Refused', '被拒绝')} (${e.code}): ${e.message}`;
  }
  return e && e.message ? e.message : String(e);
}

let status = null;
async function network() {
  if (!status) {
    const r = await fetch('/v1/status');
    if (!r.ok) throw new Error(t('The node has no block yet.', '节点尚无区块。'));
    status = await r.json();
  }
  return status;
}

// The key choosers: every select[data-keys], filled with this browser's
// keys; the choice is remembered for the next page.
const LAST_KEY = 'cityid.lastKey';
async function fillKeyChoosers() {
  const list = await keys.listKeys();
  for (const sel of document.querySelectorAll('select[data-keys]')) {
    sel.replaceChildren();
    if (list.length === 0) {
      sel.append(el('option', { value: '' }, t('No key in this browser: make or import one under Keys', '本浏览器中没有密钥：请在“密钥”页创建或导入')));
      continue;
    }
    for (const k of list) sel.append(el('option', { value: k.name }, `${k.name} (${k.pub_key.slice(0, 12)}…)`));
    const last = localStorage.getItem(LAST_KEY);
    if (last && list.some((k) => k.name === last)) sel.value = last;
    sel.addEventListener('change', () => localStorage.setItem(LAST_KEY, sel.value));
  }
  return list;
}

async function signer(sel) {
  const list = await keys.listKeys();
  const k = list.find((x) => x.name === sel.value);
  if (!k) throw new Error(t('Choose a key first (Keys page).', '请先选择密钥（“密钥”页）。'));
  return { key: { privateKey: k.privateKey, publicKey: k.publicKey }, pubKey: k.pub_key };
}

// send signs and sends kind's msg with the key chosen in sel.
async function send(sel, kind, msg) {
  const { key, pubKey } = await signer(sel);
  const { chain_id: chainID } = await network();
  say(t('Signing and sending…', '正在签名并提交…'));
  return sendTx({ chainID, key, pubKey, kind, msg });
}

function done(ans) {
  say(`${t('Committed at height', '已上链，高度')} ${ans.height} · ${ans.hash}`, 'ok');
}

// guard runs a form's or a button's work with the page's controls
// disabled, so that a second click cannot send a second transaction (or
// start a second upload) while the first is on its way.
function guard(f) {
  return async (ev) => {
    ev.preventDefault();
    const all = $('#desk');
    if (all) all.disabled = true;
    try {
      await f(ev);
    } catch (e) {
      say(explain(e), 'bad');
    } finally {
      if (all) all.disabled = false;
    }
  };
}

// ---- /keys

async function keysPage() {
  const render = async () => {
    const list = await fillKeyChoosers();
    const ul = $('#key-list');
    ul.replaceChildren(...list.map((k) => el('li', {}, el('strong', {}, k.name), ' ', el('code', {}, k.pub_key), ' ',
      el('button', { type: 'button', class: 'link', onclick: guard(async () => {
        if (!confirm(t(`Forget key ${k.name}? Without a backup it is lost.`, `删除密钥 ${k.name}？没有备份将无法找回。`))) return;
        await keys.removeKey(k.name);
        await render();
        say(t(`Key ${k.name} removed.`, `已删除密钥 ${k.name}。`), 'ok');
      }) }, t('Remove', '删除')))));
    if (list.length === 0) ul.append(el('li', {}, t('None yet.', '暂无。')));
  };
  $('#key-new').addEventListener('submit', guard(async (ev) => {
    const name = val(ev.target, 'name');
    await keys.saveKey(name, await keys.generate());
    ev.target.reset();
    await render();
    say(t(`Key ${name} made. Back it up below.`, `已创建密钥 ${name}。请在下方备份。`), 'ok');
  }));
  $('#key-import').addEventListener('submit', guard(async (ev) => {
    const f = field(ev.target, 'file').files[0];
    const text = await f.text();
    const pass = field(ev.target, 'passphrase').value;
    let got;
    try {
      const parsed = JSON.parse(text);
      got = parsed.format === keys.BACKUP_FORMAT ? await keys.importBackup(text, pass) : await keys.importKeyFile(text);
    } catch (e) {
      if (e instanceof keys.KeyError) throw e;
      throw new Error(t('The file is not a key file or a backup.', '该文件不是密钥文件或备份。'));
    }
    const name = val(ev.target, 'name') || got.name || f.name.replace(/\.json$/i, '').replace(/[^A-Za-z0-9._-]/g, '-');
    await keys.saveKey(name, got.key);
    ev.target.reset();
    await render();
    say(t(`Key ${name} imported.`, `已导入密钥 ${name}。`), 'ok');
  }));
  $('#key-export').addEventListener('submit', guard(async (ev) => {
    const name = field(ev.target, 'key').value;
    const k = (await keys.listKeys()).find((x) => x.name === name);
    if (!k) throw new Error(t('Choose a key.', '请选择密钥。'));
    say(t('Encrypting…', '正在加密…'));
    const text = await keys.exportBackup({ privateKey: k.privateKey, publicKey: k.publicKey }, name, field(ev.target, 'passphrase').value);
    const a = $('#key-download');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    a.download = `${name}.cityid-key.json`;
    a.textContent = t(`Download ${name}.cityid-key.json`, `下载 ${name}.cityid-key.json`);
    a.hidden = false;
    field(ev.target, 'passphrase').value = '';
    say(t('Backup made: download it and keep it with its passphrase apart.', '备份已生成：请下载，并将口令另行保管。'), 'ok');
  }));
  await render();
}

// ---- /apply

async function applyPage() {
  await fillKeyChoosers();
  const form = $('#apply');
  const number = field(form, 'city_number');
  const allocate = field(form, 'allocate');
  allocate.addEventListener('change', () => {
    number.disabled = allocate.checked;
    number.required = !allocate.checked;
  });
  form.addEventListener('submit', guard(async () => {
    const msg = {
      country: val(form, 'country'),
      city_number: allocate.checked ? 'allocate' : val(form, 'city_number'),
      name: val(form, 'name'),
      name_en: val(form, 'name_en'),
      locode: val(form, 'locode').toUpperCase(),
      contact: val(form, 'contact'),
      endpoint: val(form, 'endpoint'),
    };
    if (msg.endpoint && !/^https?:\/\//.test(msg.endpoint)) throw new Error(t('The endpoint is an http(s) URL.', '端点须为 http(s) 地址。'));
    const ans = await send($('#apply-key'), 'apply_city', msg);
    done(ans);
    await showApplication(ans.result.application);
  }));
}

async function showApplication(n) {
  const box = $('#apply-progress');
  const facts = $('#apply-facts');
  box.hidden = false;
  const r = await fetch(`/v1/applications/${n}`);
  if (!r.ok) return;
  const { application: a } = await r.json();
  const row = (k, v) => [el('dt', {}, k), el('dd', {}, v)];
  facts.replaceChildren(
    ...row(t('Application', '申请'), el('a', { href: `/applications/${a.id}` }, `#${a.id}`)),
    ...row(t('Status', '状态'), a.status),
    ...row(t('Approvals', '批准'), `${a.count.approvals} / ${a.count.threshold}`),
    ...row(t('Rejections', '驳回'), String(a.count.rejections)),
    ...(a.city_code ? row(t('City code', '城市代码'), el('a', { href: `/ids/${a.city_code}` }, a.city_code)) : []),
  );
  facts.dataset.status = a.status;
  if (a.status === 'pending') setTimeout(() => showApplication(n), 3000);
}

// ---- /authority

async function authorityPage() {
  await fillKeyChoosers();
  const sel = $('#authority-key');
  const render = async () => {
    const r = await fetch('/v1/applications?status=pending&limit=100');
    const list = r.ok ? (await r.json()).applications : [];
    const box = $('#applications');
    if (list.length === 0) {
      box.replaceChildren(el('p', { class: 'meta' }, t('No application waits.', '没有待审批的申请。')));
    } else {
      box.replaceChildren(...list.map((a) => {
        const reason = el('input', { 'aria-label': t('Reason', '理由'), placeholder: t('Reason (for a rejection)', '理由（驳回时填写）'), maxlength: '256' });
        // What the vote approves is everything the application's hash
        // covers: all of it is shown, and asked about again before signing.
        const facts = [`${t('Country', '国家')} ${a.country} · ${t('City number', '城市编号')} ${a.city_number}${a.locode ? ` · ${a.locode}` : ''}`,
          `${t('Applicant', '申请者')} ${a.applicant}`, `${t('Admins', '管理员')} ${(a.admins || []).join(', ')}`,
          a.contact ? `${t('Contact', '联系方式')} ${a.contact}` : '', a.endpoint ? `${t('Endpoint', '端点')} ${a.endpoint}` : ''].filter(Boolean);
        const vote = (kind) => guard(async () => {
          const verb = kind === 'approve_application' ? t('Approve', '批准') : t('Reject', '驳回');
          if (!confirm(`${verb} #${a.id} ${a.name}?\n\n${facts.join('\n')}`)) return;
          const msg = { application: a.id, hash: a.hash, reason: reason.value.trim() };
          done(await send(sel, kind, msg));
          await render();
        });
        return el('div', { class: 'card application', 'data-application': String(a.id) },
          el('h3', {}, `#${a.id} `, el('bdi', {}, a.name), a.name_en ? ` · ${a.name_en}` : ''),
          ...facts.map((f) => el('p', { class: 'meta' }, f)),
          el('p', { class: 'meta' }, `${t('Approvals', '批准')} ${a.count.approvals} / ${a.count.threshold} · ${t('Rejections', '驳回')} ${a.count.rejections}`),
          el('p', {}, reason),
          el('button', { type: 'button', class: 'approve', onclick: vote('approve_application') }, t('Approve', '批准')), ' ',
          el('button', { type: 'button', class: 'reject', onclick: vote('reject_application') }, t('Reject', '驳回')));
      }));
    }
    const p = await fetch('/v1/proposals');
    const props = p.ok ? (await p.json()).proposals : [];
    const st = await network();
    $('#proposals').replaceChildren(props.length === 0 ? el('p', { class: 'meta' }, t('No proposal waits.', '没有待表决的提案。'))
      : el('ul', {}, ...props.map((x) => {
        const what = x.kind === 'set_validator' ? `${t('validator', '验证者')} ${x.validator.pub_key.slice(0, 12)}… ${t('power', '权重')} ${x.validator.power}`
          : x.kind === 'set_authority' ? `${t('authority', '管理机构')} ${x.authority.threshold}/${x.authority.members.length}`
            : x.kind === 'set_upgrade' ? (x.upgrade.height ? `${t('upgrade', '升级')} ${x.upgrade.name} ${t('at height', '高度')} ${x.upgrade.height}`
              : `${t('cancel upgrade', '取消升级')} ${x.upgrade.name}`)
              : `${t('city', '城市')} ${x.city ? x.city.city : ''}`;
        const msg = x.validator ?? x.authority ?? x.upgrade ?? x.city;
        // The vote signs the whole message: it is shown whole, and asked
        // about again.
        const whole = JSON.stringify(msg, null, 2);
        return el('li', {}, `${x.kind}: ${what} · ${x.approvals.length} / ${st.authority.threshold} `,
          el('pre', { class: 'text' }, whole),
          el('button', { type: 'button', onclick: guard(async () => {
            if (!confirm(`${t('Approve', '批准')} ${x.kind}?\n\n${whole}`)) return;
            done(await send(sel, x.kind, msg));
            await render();
          }) }, t('Approve', '批准')));
      })));
  };
  await render();
}

// ---- /desk

function valueRow(type = 'TEXT', data = '', index = 0, ttl = 0) {
  const select = el('select', { name: 'type', 'aria-label': t('Type', '类型') }, ...['URL', 'TEXT', 'EMAIL', 'GEO', 'ALIAS'].map((x) => el('option', {}, x)));
  if (![...select.options].some((o) => o.value === type)) select.append(el('option', {}, type));
  select.value = type;
  const input = el('input', { name: 'data', 'aria-label': t('Data', '数据') });
  input.value = data;
  // A loaded value keeps its index and TTL, which Handle's ?index= and
  // DNS answers name; a new one gets the next free index.
  return el('div', { class: 'value-row', 'data-index': String(index), 'data-ttl': String(ttl) }, select, input);
}

function valuesOf(container, kept = []) {
  const rows = [...container.querySelectorAll('.value-row')]
    .map((row) => ({ type: $('select', row).value, data: $('input', row).value.trim(), index: Number(row.dataset.index || 0), ttl: Number(row.dataset.ttl || 0) }))
    .filter((v) => v.data !== '');
  const all = [...rows, ...kept];
  if (all.every((v) => !v.index)) return all.map(({ type, data, dataset, ttl }) => ({ type, data, dataset, ttl }));
  let next = Math.max(...all.map((v) => v.index || 0));
  return all.map((v) => ({ ...v, index: v.index || ++next }));
}

async function deskPage() {
  await fillKeyChoosers();
  const sel = $('#desk-key');
  $('#reg-sector').addEventListener('submit', guard(async (ev) => {
    const f = ev.target;
    done(await send(sel, 'register_sector', { id: val(f, 'id'), name: val(f, 'name') }));
  }));
  $('#reg-unit').addEventListener('submit', guard(async (ev) => {
    const f = ev.target;
    const ans = await send(sel, 'register_unit', { parent: val(f, 'parent'), name: val(f, 'name') });
    done(ans);
    if (ans.result && ans.result.id) say(`${t('Unit', '单位')} ${ans.result.id} · ${t('height', '高度')} ${ans.height}`, 'ok');
  }));
  $('#reg-id').addEventListener('submit', guard(async (ev) => {
    const f = ev.target;
    const ans = await send(sel, 'register', { id: val(f, 'id'), values: valuesOf($('fieldset', f)) });
    done(ans);
  }));

  // Edit: the version loaded is the version the update names, so a
  // change by someone else in between is refused, not overwritten.
  let loaded = null;
  $('#edit-load').addEventListener('submit', guard(async (ev) => {
    const id = val(ev.target, 'id');
    loaded = null;
    $('#edit').hidden = true;
    if (/[?#]|(^|\/)\.\.?(\/|$)/.test(id)) throw new Error(t(`${id} is not an identifier.`, `${id} 不是标识。`));
    const r = await fetch(`/v1/ids/${encodeURI(id)}`);
    const body = await r.json();
    if (!r.ok) throw new Error(body.detail || `HTTP ${r.status}`);
    loaded = body.record;
    $('#edit-version').textContent = `${loaded.version} (${loaded.status}) · ${loaded.id}`;
    const datasets = loaded.values.filter((v) => v.dataset);
    $('#edit-values').replaceChildren(el('legend', {}, t('Values', '值')), ...loaded.values.filter((v) => !v.dataset).map((v) => valueRow(v.type, v.data, v.index, v.ttl)),
      ...datasets.map((v) => el('p', { class: 'meta' }, `${v.type}: ${v.dataset.uri} (${t('kept as it is', '保持不变')})`)));
    $('#edit').hidden = false;
  }));
  $('#edit-add').addEventListener('click', () => $('#edit-values').append(valueRow()));
  $('#edit').addEventListener('submit', guard(async () => {
    // DATA values (datasets) are not edited here: they are sent again as
    // they are, so an update from this form never drops one.
    const kept = loaded.values.filter((v) => v.dataset).map((v) => ({ index: v.index, type: v.type, dataset: v.dataset, ttl: v.ttl }));
    done(await send(sel, 'update', { id: loaded.id, version: loaded.version, values: valuesOf($('#edit-values'), kept) }));
    $('#edit-load').requestSubmit();
  }));
  const setStatus = (kind) => guard(async () => {
    const reason = prompt(t('Reason (shown on the record)', '理由（显示在记录上）'));
    if (reason === null) return; // cancelled: nothing is signed
    done(await send(sel, kind, { id: loaded.id, version: loaded.version, reason }));
    $('#edit-load').requestSubmit();
  });
  $('#edit-deactivate').addEventListener('click', setStatus('deactivate'));
  $('#edit-reactivate').addEventListener('click', setStatus('reactivate'));

  // Transfer: the new admins replace the old ones.
  $('#transfer').addEventListener('submit', guard(async (ev) => {
    const f = ev.target;
    const admins = val(f, 'admins').split(/[\s,]+/).filter(Boolean);
    done(await send(sel, 'transfer', { id: val(f, 'id'), admins }));
  }));
  // Grants: another city's node may read a dataset until the date given
  // (block time, UTC), or until revoked.
  const grantMsg = (f) => ({ dataset: val(f, 'dataset'), grantee: val(f, 'grantee') });
  $('#grant').addEventListener('submit', guard(async (ev) => {
    const f = ev.target;
    const day = val(f, 'expires');
    if (!day) throw new Error(t('Give the date the grant ends.', '请填写授权截止日期。'));
    done(await send(sel, 'grant_access', { ...grantMsg(f), expires: `${day}T00:00:00Z` }));
  }));
  $('#grant-revoke').addEventListener('click', guard(async () => {
    done(await send(sel, 'revoke_access', grantMsg($('#grant'))));
  }));

  // A dataset: the file's SHA-256 computed here a slice at a time, the
  // DATA value registered or updated with it (as `cityid data put`
  // does), then the bytes sent to this node in signed chunks; the node
  // says how much it holds first, so choosing the same file again after
  // an interruption resumes.
  const dataForm = $('#data-put');
  dataForm.addEventListener('submit', guard(async () => {
    const id = val(dataForm, 'id');
    const file = field(dataForm, 'file').files[0];
    if (!file) throw new Error(t('Choose a file.', '请选择文件。'));
    if (/[?#]|(^|\/)\.\.?(\/|$)/.test(id)) throw new Error(t(`${id} is not an identifier.`, `${id} 不是标识。`));
    const media = (val(dataForm, 'media_type') || file.type || 'application/octet-stream').split(';')[0].trim();
    const bar = $('#data-put-progress');
    const count = $('#data-put-count');
    const { key, pubKey } = await signer(sel);
    // The owner's node is the city's registered endpoint: this portal
    // uploads to its own node only (same origin), so a city whose
    // endpoint is another node uploads from that node's portal.
    const cityCode = id.split('/')[0].split('.')[0];
    const cr = await fetch(`/v1/ids/${encodeURI(cityCode)}`);
    const endpoint = cr.ok ? ((await cr.json()).record.city?.endpoint || '') : '';
    if (endpoint && new URL(endpoint).origin !== location.origin) {
      throw new Error(t(`City ${cityCode} keeps its datasets on its node ${endpoint}: upload from the portal there.`, `城市 ${cityCode} 的数据集保存在其节点 ${endpoint}：请在该节点的门户上传。`));
    }
    const node = (endpoint || location.origin).replace(/\/+$/, '');
    bar.hidden = false;
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    say(t('Computing the SHA-256…', '正在计算 SHA-256…'));
    const sha256 = await hashFile(file, (n) => {
      bar.value = n;
      count.textContent = `${t('SHA-256', 'SHA-256')}: ${n} / ${file.size} ${t('bytes', '字节')}`;
    });
    const dataset = { uri: `${node}/v1/data/${id}`, sha256, size: file.size, media_type: media };
    if (field(dataForm, 'public').checked) dataset.public = true;
    const same = (d) => d && d.uri === dataset.uri && d.sha256 === sha256 && d.size === file.size && d.media_type === media && !!d.public === !!dataset.public;
    const r = await fetch(`/v1/ids/${encodeURI(id)}`);
    const body = await r.json();
    if (r.status === 404 && body.code === 'not_found') {
      done(await send(sel, 'register', { id, values: [{ type: 'DATA', dataset }] }));
    } else if (!r.ok) {
      throw new Error(body.detail || `HTTP ${r.status}`);
    } else {
      const rec = body.record;
      const values = rec.values.map((v) => ({ index: v.index, type: v.type, data: v.data, dataset: v.dataset, ttl: v.ttl }));
      const first = values.find((v) => v.dataset);
      if (!first || !same(first.dataset)) {
        if (first) first.dataset = dataset;
        else values.push({ index: Math.max(0, ...values.map((v) => v.index)) + 1, type: 'DATA', dataset, ttl: 0 });
        done(await send(sel, 'update', { id, version: rec.version, values }));
      }
    }
    say(t('Uploading…', '正在上传…'));
    bar.value = 0;
    const ans = await uploadData({ id, file, key, pubKey, onProgress: (n) => {
      bar.value = n;
      count.textContent = `${t('Uploaded', '已上传')}: ${n} / ${file.size} ${t('bytes', '字节')}`;
    } });
    bar.value = bar.max;
    say(t(`Uploaded: the node holds the ${ans.size} bytes of ${id}, SHA-256 ${ans.sha256}, as the ledger says.`,
      `上传完成：节点已保存 ${id} 的 ${ans.size} 字节，SHA-256 ${ans.sha256}，与账本一致。`), 'ok');
  }));

  // Batch upload: where an upload of a file stopped is kept in this
  // browser under the file's hash and the chain, so the same file picks
  // up there, even after the page was closed.
  const form = $('#batch');
  const bar = $('#batch-progress');
  const report = $('#batch-report');
  const checked = $('#batch-check');
  // showBadRows shows a file's identifiers that cannot be registered,
  // found before anything is signed: the line, the identifier with the
  // wrong character marked, what is wrong, and where.
  const showBadRows = (name, e) => {
    job = null;
    bar.hidden = true;
    report.hidden = true;
    $('#batch-resume').hidden = true;
    $('#batch-count').textContent = '';
    // Each cell is named by its column's heading, which a phone shows
    // before it (portal.css) where the row is one block.
    const label = Array.from(checked.querySelectorAll('thead th'), (th) => th.textContent);
    const td = (i, ...children) => el('td', { 'data-label': label[i] }, ...children);
    $('tbody', checked).replaceChildren(...e.rows.map((r) => el('tr', {},
      td(0, r.entry ? `${r.line} (${t('entry', '第')} ${r.entry}${t('', ' 项')})` : String(r.line)),
      td(1, markAt(r.id, r.position)),
      td(2, `${t(...(BAD_ROW[r.reason] ?? ['Not an identifier.', '不是标识。']))} `, el('span', { class: 'reason' }, `(${r.reason})`), el('br'), el('small', {}, r.detail)),
      td(3, r.position ? String(r.position) : '—'))));
    checked.hidden = false;
    const shown = e.count > e.rows.length ? t(`the first ${e.rows.length} are listed`, `下表列出前 ${e.rows.length} 行`) : t('listed below', '见下表');
    const rows = e.count === 1 ? `1 row of ${name} has` : `${e.count} rows of ${name} have`;
    say(t(`Nothing was sent: ${rows} an identifier that cannot be registered (${shown}). Correct the file and choose it again.`,
      `未发送任何内容：${name} 中有 ${e.count} 行的标识无法登记（${shown}）。请修改文件后重新选择。`), 'bad');
  };
  let job = null;
  const run = async (skipRefused) => {
    const { key, pubKey } = await signer(sel);
    const { chain_id: chainID } = await network();
    bar.hidden = false;
    bar.max = job.entries.length;
    const save = () => localStorage.setItem(job.stateKey, JSON.stringify(job.state));
    const shown = () => {
      bar.value = job.state.done;
      $('#batch-count').textContent = `${job.state.done} / ${job.entries.length} ${t('rows settled', '行已处理')}` +
        (job.state.skipped.length ? ` · ${job.state.skipped.length} ${t('refused', '被拒绝')}` : '');
      report.hidden = job.state.skipped.length === 0;
      $('tbody', report).replaceChildren(...job.state.skipped.map((s) => el('tr', {}, el('td', {}, String(s.line)), el('td', {}, el('code', {}, s.id)), el('td', {}, `${s.code}: ${s.detail}`))));
    };
    say(t('Uploading…', '正在上传…'));
    let r;
    try {
      r = await upload({ chainID, key, pubKey, entries: job.entries, lines: job.lines, state: job.state, skipRefused,
        onProgress: () => { save(); shown(); }, onSigned: save });
    } finally {
      save();
      shown();
    }
    if (r.ok) {
      const written = job.entries.length - job.state.skipped.length;
      say(t(`Done: ${written} ${written === 1 ? 'identifier' : 'identifiers'} written.`, `完成：已写入 ${written} 个标识。`), 'ok');
      $('#batch-resume').hidden = true;
      return;
    }
    const f = r.refused;
    say(t(`Line ${f.line} (${f.id}) was refused: ${f.code}: ${f.detail}. Nothing of its batch was written. Skip the row and resume (the rows before it stay written); a changed file is a new upload, which would send the written rows again.`,
      `第 ${f.line} 行（${f.id}）被拒绝：${f.code}：${f.detail}。该批次未写入。请跳过该行继续（之前的行已写入）；修改后的文件是新的上传，会重新发送已写入的行。`), 'bad');
    $('#batch-resume').hidden = false;
  };
  form.addEventListener('submit', guard(async () => {
    const file = field(form, 'file').files[0];
    const bytes = new Uint8Array(await file.arrayBuffer());
    checked.hidden = true;
    let read;
    try {
      read = checkBatchFile(file.name, decodeBatchFile(file.name, bytes));
    } catch (e) {
      if (e instanceof NotUTF8Error) {
        // The everyday case: a spreadsheet's CSV saved in GBK, whose
        // Chinese text would otherwise go on chain as U+FFFD.
        say(t(`Nothing was sent: ${e.message}. The file is in another encoding (such as GBK): save it as UTF-8 — in Excel, Save As "CSV UTF-8 (Comma delimited)" — and choose it again.`,
          `未发送任何内容：${e.message}。该文件使用了其他编码（如 GBK）：请另存为 UTF-8 编码——在 Excel 中“另存为”选择“CSV UTF-8(逗号分隔)”——然后重新选择该文件。`), 'bad');
        return;
      }
      if (!(e instanceof BatchCheckError)) throw e;
      showBadRows(file.name, e);
      return;
    }
    const { entries, lines } = read;
    const { chain_id: chainID } = await network();
    // The hash of the bytes after a BOM: what hashing File.text()'s
    // text gave before, so that an upload saved then resumes.
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bom ? bytes.subarray(3) : bytes));
    const stateKey = `cityid.batch.${chainID}.${keys.toHex(digest)}`;
    const saved = JSON.parse(localStorage.getItem(stateKey) || '{}');
    job = { entries, lines, stateKey, state: saved };
    await run(false);
  }));
  $('#batch-resume').addEventListener('click', guard(async () => {
    if (job) await run(true);
  }));
}

// The page's controls are disabled until its script is ready (the
// fieldset#desk of each desk's template), so that nothing is submitted
// as a plain form before it can be signed.
const pages = { 'key-list': keysPage, apply: applyPage, applications: authorityPage, 'reg-id': deskPage };
for (const [id, init] of Object.entries(pages)) {
  if (document.getElementById(id)) {
    init().then(() => { $('#desk').disabled = false; }, (e) => say(explain(e), 'bad'));
    break;
  }
}
