// The console's behaviour: keyboard use of the queue, filters applied as they change, and the
// live queue. Loaded as a module from Vigil itself; the pages work without it, only slower to use.

const body = document.body;

for (const control of document.querySelectorAll('[data-autosubmit]')) {
  control.addEventListener('change', () => control.form?.requestSubmit());
}

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

function rows() {
  return [...document.querySelectorAll('#queue tbody tr.alert-row')];
}

function focusedRow() {
  const active = document.activeElement;
  return active instanceof HTMLElement ? active.closest('tr.alert-row') : null;
}

function move(step) {
  const list = rows();
  if (list.length === 0) return;
  const current = focusedRow();
  const index = current ? list.indexOf(current) : -1;
  const next = list[Math.min(list.length - 1, Math.max(0, index + step))];
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
}

function toggle(row) {
  const box = row?.querySelector('input[type=checkbox]');
  if (box) {
    box.checked = !box.checked;
    row.classList.toggle('selected', box.checked);
  }
}

function acknowledge() {
  const form = document.getElementById('bulk');
  if (!form) return;
  const selected = rows().filter((row) => row.querySelector('input[type=checkbox]')?.checked);
  if (selected.length === 0) {
    const row = focusedRow();
    if (!row) return;
    toggle(row);
  }
  form.querySelector('#bulk-action').value = 'acknowledge';
  form.requestSubmit();
}

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const help = document.getElementById('help');
  if (help?.open) return;
  switch (event.key) {
    case 'j':
      move(1);
      break;
    case 'k':
      move(-1);
      break;
    case 'x':
      toggle(focusedRow());
      break;
    case 'a':
      acknowledge();
      break;
    case 'Enter': {
      const row = focusedRow();
      if (!row || event.target !== row) return;
      window.location.assign(row.dataset.href);
      break;
    }
    case '/':
      document.getElementById('filter-rule')?.focus();
      break;
    case '?':
      help?.showModal();
      break;
    default:
      return;
  }
  event.preventDefault();
});

document.addEventListener('click', (event) => {
  const row = event.target instanceof Element ? event.target.closest('tr.alert-row') : null;
  if (row && !(event.target instanceof HTMLAnchorElement)) {
    row.focus();
    const box = row.querySelector('input[type=checkbox]');
    if (box) row.classList.toggle('selected', box.checked);
  }
});

// The live queue: the server says an alert opened; the page asks for the rows its filters show.
if (body.dataset.page === 'queue' && 'EventSource' in window) {
  const status = document.getElementById('live-status');
  const tbody = document.querySelector('#queue tbody');
  let newest = Number(body.dataset.newest) || 0;
  let unseen = 0;
  let pending = Promise.resolve();
  const source = new EventSource('/console/alerts/live');
  const fetchRows = async () => {
    const filters = body.dataset.filters ? `&${body.dataset.filters}` : '';
    const response = await fetch(`/console/alerts/rows?after=${newest}${filters}`, {
      credentials: 'same-origin',
    });
    if (!response.ok) return;
    const template = document.createElement('template');
    template.innerHTML = (await response.text()).trim();
    const added = [...template.content.querySelectorAll('tr.alert-row')].filter(
      (row) => !tbody.querySelector(`tr[data-id="${row.dataset.id}"]`),
    );
    for (const row of added.reverse()) {
      row.classList.add('new');
      tbody.prepend(row);
      newest = Math.max(newest, Number(row.dataset.id));
    }
    if (added.length > 0) {
      document.querySelector('.empty')?.remove();
      unseen += added.length;
      status.textContent = `${unseen} new alert${unseen === 1 ? '' : 's'} since this page opened.`;
    }
  };
  source.addEventListener('alert', () => {
    if (body.dataset.live === 'rows' && tbody) {
      pending = pending.then(fetchRows).catch(() => undefined);
    } else {
      unseen++;
      status.textContent = `${unseen} new alert${unseen === 1 ? '' : 's'}: reload to see ${unseen === 1 ? 'it' : 'them'}.`;
    }
  });
  source.addEventListener('open', () => body.setAttribute('data-live-ready', 'true'));
  source.addEventListener('signed-out', () => {
    source.close();
    window.location.assign('/console/sign-in');
  });
}

// The rule editor: the loader checks the text as it is typed (after a pause), and a rule file
// picked from the disk is read into the editor, not sent anywhere by itself.
const editor = document.getElementById('rule-editor');
if (editor) {
  const text = document.getElementById('rule-text');
  const result = document.getElementById('validation');
  const csrf = editor.querySelector('input[name=_csrf]').value;
  let timer;
  let asked = 0;
  const validate = async () => {
    const ask = ++asked;
    const response = await fetch(editor.dataset.validate, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf },
      body: new URLSearchParams({ text: text.value, file: editor.elements.file.value }),
    });
    // Only the newest answer is shown: an older one may come back last.
    if (response.ok && ask === asked) {
      result.innerHTML = await response.text();
      editor.dataset.validated = String(ask);
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => validate().catch(() => undefined), 400);
  };
  text.addEventListener('input', later);
  document.getElementById('rule-upload')?.addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    if (!file) return;
    text.value = await file.text();
    if (!editor.elements.file.value) editor.elements.file.value = file.name;
    later();
  });
}

// A page about work under way (a backtest, an assessment) shows its progress by reloading.
if (body.dataset.refresh) {
  setTimeout(() => window.location.reload(), Number(body.dataset.refresh));
}

// A file (an advisory, a scan) goes to the service as the request's body, its name in a header;
// the service answers with the page to go to, or with why it refused the file.
for (const upload of document.querySelectorAll('form[data-file-input]')) {
  upload.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = document.getElementById(upload.dataset.fileInput).files?.[0];
    const problem = () => {
      let shown = upload.querySelector('.problem');
      if (!shown) {
        shown = document.createElement('p');
        shown.className = 'problem';
        shown.setAttribute('role', 'alert');
        upload.prepend(shown);
      }
      return shown;
    };
    if (!file) return;
    if (file.size > Number(upload.dataset.max)) {
      problem().textContent = `The file is larger than the ${Math.round(upload.dataset.max / 1024 ** 2)} MB allowed.`;
      return;
    }
    const response = await fetch(upload.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/octet-stream',
        'x-csrf-token': upload.elements._csrf.value,
        'x-file-name': encodeURIComponent(file.name),
      },
      body: file,
    });
    if (response.ok && response.redirected) window.location.assign(response.url);
    else {
      const text = document.createElement('template');
      text.innerHTML = await response.text();
      problem().textContent = text.content.textContent.trim() || `The service answered ${response.status}.`;
    }
  });
}
