// The record page's verification badge: a placeholder until the next
// part of issue 11 wires verify.js in (fetch /v1/ids/{id}?proof=true and
// the light blocks, pin the trust root on first use). Until then it says
// plainly that nothing was verified, rather than leave the no-script text.
const el = document.getElementById('badge');
if (el) {
  const zh = el.dataset.lang === 'zh';
  el.querySelector('.badge-text').textContent = zh
    ? '本页尚未在浏览器中验证证明（下一步）。'
    : 'Not verified in this browser yet (the badge comes next).';
}
