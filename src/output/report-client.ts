// What runs inside report.html: its style sheet and its script, as text the page holds inline (the
// page is opened from disk, so it may load nothing). The script reads the data block the page
// carries (report-html.ts lays it out), fills the image and repository tables a screenful at a
// time, and filters and sorts them. Registry text only ever reaches the page as textContent, and
// control and invisible format characters are shown as \u escapes, so a name cannot pose as
// another or hide what follows it.

/** One table row's height in pixels: the style sheet and the script must agree on it. */
export const ROW_HEIGHT = 26;

export const REPORT_STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #fff; --line: #d1d9e0;
  --head: #f6f8fa; --bar: #0969da; --other: #818b98; --bad: #cf222e; --good: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117;
  --line: #3d444d; --head: #151b23; --bar: #4493f8; --other: #656c76; --bad: #f85149; --good: #3fb950; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 16px 24px 48px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 4px; }
p { margin: 4px 0; }
.muted { color: var(--muted); }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--good); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; padding: 8px 12px; border: 1px solid var(--line); border-radius: 6px; width: 400px; }
figcaption { font-weight: 600; }
figure svg { display: block; margin-top: 6px; }
svg text { fill: var(--fg); font-size: 12px; }
svg .bar { fill: var(--bar); }
svg .others { fill: var(--other); }
ul { margin: 4px 0; padding-left: 20px; }
li { margin: 2px 0; overflow-wrap: anywhere; }
button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--head); color: var(--fg); cursor: pointer; }
.search { position: sticky; top: 0; z-index: 2; background: var(--bg); padding: 8px 0; }
.search input { width: 100%; max-width: 640px; padding: 6px 10px; font: inherit; color: var(--fg);
  background: var(--bg); border: 1px solid var(--line); border-radius: 6px; }
.scroller { max-height: 70vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { padding: 0 8px; text-align: left; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  border-bottom: 1px solid var(--line); }
td { height: ${ROW_HEIGHT}px; }
th { position: sticky; top: 0; z-index: 1; height: 32px; background: var(--head); cursor: pointer;
  user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
th.num, td.num { text-align: right; }
tr.spacer td { border: 0; padding: 0; height: 0; }
tr.clickable { cursor: pointer; }
tbody tr:hover td { background: var(--head); }
.status { margin: 6px 0; color: var(--muted); }
`;

/**
 * The page's script. Plain browser JavaScript in a String.raw template: backslashes reach the page
 * as written, and it has no `${` of its own.
 */
export const REPORT_SCRIPT = String.raw`
'use strict';
(function () {
  var ROW = ${ROW_HEIGHT};
  var OVERSCAN = 10;
  var LIST_SHOWN = 100;
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var fmt = new Intl.NumberFormat('en-US');

  function shown(text) {
    return String(text).replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, function (c) {
      var code = c.codePointAt(0);
      return code > 0xffff ? '\\u{' + code.toString(16) + '}' : '\\u' + code.toString(16).padStart(4, '0');
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bytes(n) {
    if (n === null || n === undefined) return '';
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var v = n;
    var i = 0;
    while (Math.round(v * 10) / 10 >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return i === 0 ? v + ' B' : v.toFixed(1) + ' ' + units[i];
  }
  function day(seconds) {
    return seconds === null ? '' : new Date(seconds * 1000).toISOString().slice(0, 10);
  }
  function stamp(seconds) {
    return seconds === null ? '' : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  }
  // Reproducible builds stamp the epoch (or a day after) as the creation time: no age at all.
  function dated(seconds) { return seconds !== null && seconds > 86400; }
  function age(seconds) {
    if (!dated(seconds)) return '';
    var days = (data.at - seconds) / 86400;
    if (days < 1) return 'today';
    if (days < 14) return Math.floor(days) + ' d';
    if (days < 61) return Math.floor(days / 7) + ' wk';
    if (days < 730) return Math.floor(days / 30.44) + ' mo';
    return (days / 365.25).toFixed(1) + ' yr';
  }
  var SHA256_HEX = /^[0-9a-f]{64}$/;
  function digestText(i) {
    if (i === null) return '';
    var d = data.digests[i];
    return SHA256_HEX.test(d) ? 'sha256:' + d : d;
  }
  function shortDigest(i) {
    if (i === null) return '';
    var d = data.digests[i];
    return SHA256_HEX.test(d) ? d.slice(0, 12) : shown(d).slice(0, 19);
  }
  // A tri-state flag of an image: 2 yes, 1 no (looked, found none), 0 unknown (could not look).
  function flag(bits, shift) { return (bits >> shift) & 3; }
  function flagText(v) { return v === 2 ? 'yes' : v === 1 ? 'no' : ''; }
  var SEVERITIES = ['critical', 'high', 'medium', 'low'];
  function vulnText(i) {
    if (i === null) return '';
    var v = data.vulns[i];
    var parts = [];
    for (var s = 0; s < 4; s++) if (v[s] > 0) parts.push(v[s] + ' ' + SEVERITIES[s]);
    if (parts.length > 0) return parts.join(', ');
    return v[4] > 0 ? v[4] + ' other' : 'none';
  }
  // Sorts worst first: weighted so one critical outranks any number of highs below 1000.
  function vulnKey(i) {
    if (i === null) return null;
    var v = data.vulns[i];
    return v[0] * 1e9 + v[1] * 1e6 + v[2] * 1e3 + v[3] + v[4] / 1e6;
  }
  function repoName(r) {
    var row = data.repos[r];
    return data.providers.length > 1 ? data.providers[row[0]] + ' / ' + row[1] : row[1];
  }
  function where(provider, repository, tag) {
    return (data.manyProviders ? provider + ' / ' : '') + repository + (tag === undefined ? '' : ':' + tag);
  }

  // Image rows: [repo, tag, digest, platforms, size, created, pushed, flags, vulns]
  var I = data.images;
  var imageColumns = [
    { id: 'repository', name: 'Repository', width: 20, text: function (i) { return repoName(I[i][0]); },
      key: function (i) { return repoName(I[i][0]); } },
    { id: 'tag', name: 'Tag', width: 12, text: function (i) { return I[i][1]; } },
    { id: 'digest', name: 'Digest', width: 10, mono: true, text: function (i) { return shortDigest(I[i][2]); },
      title: function (i) { return digestText(I[i][2]); } },
    { id: 'platforms', name: 'Platforms', width: 14,
      text: function (i) { return I[i][3] === null ? '' : data.platforms[I[i][3]]; } },
    { id: 'size', name: 'Size', width: 8, num: true, text: function (i) { return bytes(I[i][4]); },
      key: function (i) { return I[i][4]; } },
    { id: 'created', name: 'Created', width: 9, text: function (i) { return day(I[i][5]); },
      title: function (i) { return stamp(I[i][5]); }, key: function (i) { return I[i][5]; } },
    { id: 'age', name: 'Age', width: 6, num: true, text: function (i) { return age(I[i][5]); },
      key: function (i) { return dated(I[i][5]) ? -I[i][5] : null; } },
  ];
  if (data.show.pushed)
    imageColumns.push({ id: 'pushed', name: 'Pushed', width: 9, text: function (i) { return day(I[i][6]); },
      title: function (i) { return stamp(I[i][6]); }, key: function (i) { return I[i][6]; } });
  var FLAGS = [['signed', 'Signed', 0, 'trust', 7], ['sbom', 'SBOM', 2, 'trust', 6],
    ['provenance', 'Provenance', 4, 'trust', 10], ['verified', 'Verified', 6, 'verified', 8]];
  FLAGS.forEach(function (f) {
    if (!data.show[f[3]]) return;
    imageColumns.push({ id: f[0], name: f[1], width: f[4], text: function (i) { return flagText(flag(I[i][7], f[2])); },
      key: function (i) { var v = flag(I[i][7], f[2]); return v === 0 ? null : v; } });
  });
  if (data.show.vulns)
    imageColumns.push({ id: 'vulnerabilities', name: 'Vulnerabilities', width: 14,
      text: function (i) { return vulnText(I[i][8]); }, key: function (i) { return vulnKey(I[i][8]); } });
  if (data.show.retention)
    imageColumns.push({ id: 'retention', name: 'Retention', width: 7,
      text: function (i) { return (I[i][7] >> 8) & 1 ? 'delete' : 'keep'; } });

  // Repository rows: [provider, name, tags selected, tags listed, complete, storage, storage kind, errors,
  // unique, shared, untagged]
  var R = data.repos;
  var imagesOf = new Int32Array(R.length);
  for (var k = 0; k < I.length; k++) imagesOf[I[k][0]]++;
  var STORAGE_MARK = ['', '≥ ', '≈ '];
  var STORAGE_TITLE = ['distinct blobs and manifests the repository references',
    'at least: part of the repository was not read', 'the sum of its distinct image sizes: the graph has no storage figure'];
  var repoColumns = [];
  if (data.providers.length > 1)
    repoColumns.push({ id: 'provider', name: 'Provider', width: 10, text: function (r) { return data.providers[R[r][0]]; } });
  repoColumns.push(
    { id: 'repository', name: 'Repository', width: 30, text: function (r) { return R[r][1]; } },
    { id: 'images', name: 'Images', width: 7, num: true, text: function (r) { return fmt.format(imagesOf[r]); },
      key: function (r) { return imagesOf[r]; } },
    { id: 'tags', name: 'Tags (selected / listed)', width: 16, num: true,
      text: function (r) { return fmt.format(R[r][2]) + ' / ' + fmt.format(R[r][3]); }, key: function (r) { return R[r][3]; } },
    { id: 'storage', name: 'Storage', width: 10, num: true,
      text: function (r) { return R[r][5] === null ? '' : STORAGE_MARK[R[r][6]] + bytes(R[r][5]); },
      title: function (r) { return R[r][5] === null ? '' : bytes(R[r][5]) + ': ' + STORAGE_TITLE[R[r][6]]; },
      key: function (r) { return R[r][5]; } }
  );
  // The graph's storage split, where it has one: what only this repository holds, what it shares
  // with others of the registry, and what its untagged manifests hold beyond that.
  function bytesColumn(id, name, at, title) {
    return { id: id, name: name, width: 9, num: true, text: function (r) { return bytes(R[r][at]); },
      title: function (r) { return R[r][at] === null ? '' : bytes(R[r][at]) + ': ' + title; }, key: function (r) { return R[r][at]; } };
  }
  if (data.show.shared)
    repoColumns.push(bytesColumn('unique', 'Unique', 8, 'referenced by no other repository of the registry'),
      bytesColumn('shared', 'Shared', 9, 'referenced by another repository of the registry too'));
  if (data.show.untagged)
    repoColumns.push(bytesColumn('untagged', 'Untagged', 10, 'what untagged manifests reference beyond the tagged'));
  repoColumns.push(
    { id: 'complete', name: 'Complete', width: 9, text: function (r) { return R[r][4] ? 'yes' : 'no'; },
      cls: function (r) { return R[r][4] ? '' : 'bad'; } },
    { id: 'errors', name: 'Problems', width: 20, text: function (r) { return R[r][7]; } }
  );

  // What the one search box looks in, lowercased once.
  var imageHay = new Array(I.length);
  for (var n = 0; n < I.length; n++) {
    var row = I[n];
    imageHay[n] = (repoName(row[0]) + '\u0000' + row[1] + '\u0000' + digestText(row[2]) + '\u0000' +
      (row[3] === null ? '' : data.platforms[row[3]])).toLowerCase();
  }
  var repoHay = R.map(function (r, i) { return (repoName(i) + '\u0000' + r[7]).toLowerCase(); });

  function VirtualTable(host, columns, count, hay, noun, onRow) {
    this.columns = columns;
    this.hay = hay;
    this.noun = noun;
    this.count = count;
    this.base = new Int32Array(count);
    for (var i = 0; i < count; i++) this.base[i] = i;
    this.view = this.base;
    this.sort = null;
    this.terms = [];
    this.status = el('p', 'status');
    this.status.id = noun + '-status';
    this.scroller = el('div', 'scroller');
    var table = el('table');
    table.id = noun;
    var colgroup = el('colgroup');
    var head = el('tr');
    var self = this;
    // Widths are shares of the table, whichever columns this inventory has.
    var shares = columns.reduce(function (sum, c) { return sum + c.width; }, 0);
    columns.forEach(function (c, ci) {
      var col = el('col');
      colgroup.appendChild(col);
      col.style.width = (100 * c.width / shares).toFixed(2) + '%';
      var th = el('th', c.num ? 'num' : '', c.name);
      th.dataset.col = c.id;
      th.scope = 'col';
      th.tabIndex = 0;
      th.addEventListener('click', function () { self.sortBy(ci); });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); self.sortBy(ci); } });
      head.appendChild(th);
    });
    this.heads = head.children;
    var thead = el('thead');
    thead.appendChild(head);
    this.body = el('tbody');
    if (onRow) {
      this.body.addEventListener('click', function (e) {
        var tr = e.target.closest('tr[data-row]');
        if (tr) onRow(Number(tr.dataset.row));
      });
    }
    table.appendChild(colgroup);
    table.appendChild(thead);
    table.appendChild(this.body);
    this.scroller.appendChild(table);
    this.onRow = onRow;
    host.appendChild(this.status);
    host.appendChild(this.scroller);
    var pending = false;
    this.scroller.addEventListener('scroll', function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; self.render(); });
    });
    this.filter([]);
  }
  VirtualTable.prototype.sortBy = function (ci) {
    var c = this.columns[ci];
    var dir = this.sort && this.sort.ci === ci && this.sort.dir === 1 ? -1 : 1;
    this.sort = { ci: ci, dir: dir };
    var keyOf = c.key || c.text;
    var keys = new Array(this.count);
    for (var i = 0; i < this.count; i++) {
      var v = keyOf(i);
      keys[i] = v === '' ? null : typeof v === 'string' ? v.toLowerCase() : v;
    }
    var order = Array.from({ length: this.count }, function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a];
      var y = keys[b];
      // Unknown values go last whichever way the column is sorted.
      if (x === null || y === null) return x === y ? a - b : x === null ? 1 : -1;
      if (x < y) return -dir;
      if (x > y) return dir;
      return a - b;
    });
    this.base = Int32Array.from(order);
    for (var h = 0; h < this.heads.length; h++) this.heads[h].removeAttribute('aria-sort');
    this.heads[ci].setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    this.filter(this.terms);
  };
  VirtualTable.prototype.filter = function (terms) {
    this.terms = terms;
    if (terms.length === 0) this.view = this.base;
    else {
      var out = new Int32Array(this.base.length);
      var m = 0;
      for (var i = 0; i < this.base.length; i++) {
        var text = this.hay[this.base[i]];
        var all = true;
        for (var t = 0; t < terms.length && all; t++) all = text.indexOf(terms[t]) >= 0;
        if (all) out[m++] = this.base[i];
      }
      this.view = out.subarray(0, m);
    }
    this.scroller.scrollTop = 0;
    this.status.dataset.query = terms.join(' ');
    this.status.textContent = (terms.length > 0 ? fmt.format(this.view.length) + ' of ' : '') +
      fmt.format(this.count) + ' ' + this.noun + (terms.length > 0 ? ' match' : '');
    this.render();
  };
  VirtualTable.prototype.render = function () {
    var total = this.view.length;
    var first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW) - OVERSCAN);
    // The scroller grows with its rows up to its max-height: until then, a window's height of rows.
    var tall = Math.max(this.scroller.clientHeight, window.innerHeight);
    var last = Math.min(total, first + Math.ceil(tall / ROW) + 2 * OVERSCAN);
    var frag = document.createDocumentFragment();
    frag.appendChild(this.spacer(first * ROW));
    for (var p = first; p < last; p++) {
      var i = this.view[p];
      var tr = el('tr', this.onRow ? 'row clickable' : 'row');
      tr.dataset.row = String(i);
      for (var ci = 0; ci < this.columns.length; ci++) {
        var c = this.columns[ci];
        var text = shown(c.text(i));
        var td = el('td', (c.num ? 'num ' : '') + (c.mono ? 'mono ' : '') + (c.cls ? c.cls(i) : ''), text);
        td.title = c.title ? shown(c.title(i)) : text;
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    if (total === 0) {
      var empty = el('tr');
      var td0 = el('td', 'muted', this.count === 0 ? 'No ' + this.noun + ' in this inventory.' : 'No ' + this.noun + ' match.');
      td0.colSpan = this.columns.length;
      empty.appendChild(td0);
      frag.appendChild(empty);
    }
    frag.appendChild(this.spacer((total - last) * ROW));
    this.body.replaceChildren(frag);
  };
  VirtualTable.prototype.spacer = function (height) {
    var tr = el('tr', 'spacer');
    var td = el('td');
    td.colSpan = this.columns.length;
    td.style.height = height + 'px';
    tr.appendChild(td);
    return tr;
  };

  var search = document.getElementById('search');
  var images = new VirtualTable(document.getElementById('images-host'), imageColumns, I.length, imageHay, 'images');
  var repos = new VirtualTable(document.getElementById('repos-host'), repoColumns, R.length, repoHay, 'repositories',
    function (r) { search.value = R[r][1]; search.dispatchEvent(new Event('input')); search.focus(); });
  var timer = 0;
  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      images.filter(terms);
      repos.filter(terms);
    }, I.length > 20000 ? 120 : 0);
  });

  // A list that shows its first items and the rest on request: the change report and the
  // retention plan can name every tag of a large registry.
  function list(host, title, items, line) {
    if (items.length === 0) return;
    host.appendChild(el('h3', '', title + ' (' + fmt.format(items.length) + ')'));
    var ul = el('ul');
    host.appendChild(ul);
    function fill(upTo) {
      for (var i = ul.children.length; i < Math.min(upTo, items.length); i++) ul.appendChild(el('li', '', shown(line(items[i]))));
    }
    fill(LIST_SHOWN);
    if (items.length > LIST_SHOWN) {
      var more = el('button', '', 'Show all ' + fmt.format(items.length));
      more.addEventListener('click', function () { fill(items.length); more.remove(); });
      host.appendChild(more);
    }
  }
  function plural(n, one, many) { return fmt.format(n) + ' ' + (n === 1 ? one : many); }

  var changes = data.changes;
  var changeHost = document.getElementById('changes');
  if (!changes.compared) changeHost.appendChild(el('p', 'muted', 'Nothing to compare with yet (no state-dir or previous-graph).'));
  else if (changes.firstRun)
    changeHost.appendChild(el('p', 'muted', 'First inventory: there is no previous graph to compare with; the next run reports what changed since this one.'));
  else {
    var counts = [[changes.newRepositories, 'new repository', 'new repositories'], [changes.newTags, 'new tag', 'new tags'],
      [changes.movedTags, 'moved tag', 'moved tags'], [changes.removedTags, 'removed tag', 'removed tags'],
      [changes.removedRepositories, 'removed repository', 'removed repositories'],
      [changes.newPlatforms, 'tag with new platforms', 'tags with new platforms']]
      .filter(function (c) { return c[0].length > 0; })
      .map(function (c) { return plural(c[0].length, c[1], c[2]); });
    var since = changes.previousGeneratedAt ? ' since the inventory of ' + changes.previousGeneratedAt : '';
    changeHost.appendChild(el('p', '', shown((counts.length > 0 ? counts.join(', ') : 'No changes') + since + '.')));
    list(changeHost, 'Moved tags', changes.movedTags, function (m) { return where(m[0], m[1], m[2]) + ': ' + m[3] + ' → ' + m[4]; });
    list(changeHost, 'New repositories', changes.newRepositories, function (r) { return where(r[0], r[1]); });
    list(changeHost, 'New tags', changes.newTags, function (t) { return where(t[0], t[1], t[2]) + ' ' + t[3]; });
    list(changeHost, 'Removed tags', changes.removedTags, function (t) { return where(t[0], t[1], t[2]) + ' (was ' + t[3] + ')'; });
    list(changeHost, 'Removed repositories', changes.removedRepositories, function (r) { return where(r[0], r[1]); });
    list(changeHost, 'New platforms', changes.newPlatforms, function (p) { return where(p[0], p[1], p[2]) + ': ' + p[3]; });
    list(changeHost, 'Not compared', changes.unverified, function (u) {
      return where(u[0], u[1]) + ': ' + plural(u[2], 'previously inventoried tag', 'previously inventoried tags') +
        ' not seen, not reported as removed because ' + u[3];
    });
    list(changeHost, 'First seen', changes.firstSeen, function (u) {
      return where(u[0], u[1]) + ': ' + plural(u[2], 'tag', 'tags') + ' not in the previous inventory, not reported as new because ' + u[3];
    });
  }

  var retention = data.retention;
  if (retention) {
    var host = document.getElementById('retention');
    host.hidden = false;
    host.appendChild(el('p', '', plural(retention.deletions, 'deletion', 'deletions') + ' planned, freeing ' +
      bytes(retention.reclaimableBytes) + (retention.skipped > 0 ? '; ' + plural(retention.skipped, 'repository', 'repositories') + ' not planned' : '') +
      '. Images a deletion removes are marked "delete" in the Retention column below.'));
    var applied = retention.applied;
    if (applied)
      host.appendChild(el('p', '', 'Applied: ' + fmt.format(applied.deleted) + ' deleted (' + bytes(applied.bytesDeleted) + '), ' +
        fmt.format(applied.refused) + ' refused, ' + fmt.format(applied.failed) + ' failed, ' + fmt.format(applied.skipped) +
        ' skipped; retention-plan.json has the journal.'));
    list(host, 'Repositories with deletions', retention.plans.filter(function (p) { return p[2] > 0; }), function (p) {
      return where(p[0], p[1]) + ': ' + plural(p[2], 'deletion', 'deletions') + ', ' + bytes(p[3]);
    });
    list(host, 'Not planned', retention.plans.filter(function (p) { return p[4] !== null; }), function (p) {
      return where(p[0], p[1]) + ': ' + p[4];
    });
  }

  var failureHost = document.getElementById('failures');
  if (data.failures.length > 0) {
    failureHost.hidden = false;
    list(failureHost, 'Problems', data.failures, function (f) { return f[0] + ': ' + f[1]; });
  }
  document.documentElement.dataset.ready = 'true';
})();
`;
