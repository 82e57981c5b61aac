/**
 * The live dashboard at admin `/`: one self-contained page (no CDN, no external asset) fed by the
 * server-sent events of `/api/stream`. It shows every upstream and server (state, in-flight, rates,
 * latency), a chart of requests and errors by root cause over the last minutes, the recent failures
 * with their diagnosis (click one for everything known about it), the recent events, and the alerts
 * pending or firing, the managed processes (click one for its last output lines), and on a cluster
 * node every node's record.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatewise</title>
<style>
  :root { --bg:#0f1419; --panel:#161d24; --line:#26313c; --text:#d7dde3; --dim:#8a97a4; --ok:#3fb950; --bad:#f85149; --warn:#d29922; --info:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; }
  header .dim { color: var(--dim); }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; padding: 16px 20px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); margin: 0 0 10px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 280px; }
  th { color: var(--dim); font-weight: 500; }
  td.num { text-align: right; }
  tr.upstream td { color: var(--dim); font-weight: 600; background: #1b232c; }
  .state { font-weight: 600; }
  .state.up { color: var(--ok); } .state.down { color: var(--bad); } .state.warn { color: var(--warn); }
  #failures tbody tr { cursor: pointer; } #failures tbody tr:hover { background: #1e2731; }
  .cause { color: var(--warn); } .type { color: var(--bad); }
  #detail { display: none; margin-top: 10px; background: #0c1116; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
  #detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
  #detail dt { color: var(--dim); } #detail dd { margin: 0; white-space: pre-wrap; word-break: break-word; }
  #chart svg { width: 100%; height: 160px; display: block; }
  .legend span { display: inline-block; margin-right: 12px; color: var(--dim); font-size: 12px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
  #events li { list-style: none; padding: 3px 0; border-bottom: 1px solid var(--line); color: var(--dim); }
  #events ul { margin: 0; padding: 0; max-height: 260px; overflow: auto; }
  .wide { grid-column: 1 / -1; }
  #alerts li { list-style: none; padding: 5px 0; border-bottom: 1px solid var(--line); }
  #alerts ul { margin: 0; padding: 0; }
  #alerts .firing { color: var(--bad); font-weight: 600; } #alerts .pending { color: var(--warn); font-weight: 600; }
  #alerts .none { color: var(--ok); }
  #processes tbody tr { cursor: pointer; } #processes tbody tr:hover { background: #1e2731; }
  #proc-lines { display: none; margin: 10px 0 0; background: #0c1116; border: 1px solid var(--line); border-radius: 6px; padding: 10px; max-height: 240px; overflow: auto; white-space: pre-wrap; }
  #proc-lines .stderr { color: var(--warn); }
  #conn.live { color: var(--ok); } #conn.lost { color: var(--bad); }
</style>
</head>
<body>
<header><h1>Gatewise</h1><span class="dim" id="meta">connecting…</span><span id="conn" class="dim">●</span></header>
<main>
  <section class="wide" id="alerts"><h2>Alerts</h2><ul></ul></section>
  <section class="wide"><h2>Upstreams and servers</h2>
    <table id="servers"><thead><tr><th>server</th><th>state</th><th class="num">in-flight</th><th class="num">req/s</th><th class="num">errors</th><th class="num">p50</th><th class="num">p99</th><th>breaker</th><th class="num">weight</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="chart"><h2>Requests and errors by cause (last minutes)</h2><div id="chart-body"></div><div class="legend" id="legend"></div></section>
  <section id="events"><h2>Events</h2><ul></ul></section>
  <section class="wide" id="cluster" hidden><h2>Cluster nodes</h2>
    <table><thead><tr><th>node</th><th>status</th><th class="num">revision</th><th>config hash</th><th>updated</th><th>error</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide" id="processes" hidden><h2>Managed processes</h2>
    <table><thead><tr><th>upstream / server</th><th>state</th><th class="num">pid</th><th class="num">restarts</th><th class="num">memory</th><th>last exit</th></tr></thead><tbody></tbody></table>
    <pre id="proc-lines"></pre>
  </section>
  <section class="wide"><h2>Recent failures</h2>
    <table id="failures"><thead><tr><th>time</th><th>request id</th><th>upstream / server</th><th>error</th><th>cause</th><th>hint</th></tr></thead><tbody></tbody></table>
    <div id="detail"></div>
  </section>
</main>
<script>
(() => {
  const token = new URLSearchParams(location.search).get('access_token');
  const q = token ? '?access_token=' + encodeURIComponent(token) : '';
  const $ = (s) => document.querySelector(s);
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const ms = (v) => (v == null || v < 0 ? '–' : v < 10 ? v.toFixed(1) + ' ms' : Math.round(v) + ' ms');
  const COLORS = ['#f85149', '#d29922', '#a371f7', '#db61a2', '#ff7b72', '#e3b341', '#79c0ff', '#56d364'];
  const colorOf = {};
  const causeColor = (cause) => (colorOf[cause] ??= COLORS[Object.keys(colorOf).length % COLORS.length]);
  let failures = [];

  function serverState(s, u) {
    if (s.draining) return ['draining', 'warn'];
    if (s.breaker === 'open') return ['breaker open', 'down'];
    if (s.healthy === false) return ['unhealthy', 'down'];
    if (s.passive === 'ejected') return ['ejected', 'down'];
    if (!s.available) return ['down', 'down'];
    if (u.panic) return ['up (panic)', 'warn'];
    if (s.passive === 'probation') return ['probation', 'warn'];
    return ['up', 'up'];
  }

  function renderServers(status) {
    const rows = [];
    for (const u of status.upstreams ?? []) {
      rows.push('<tr class="upstream"><td colspan="9">' + esc(u.name) + ' · ' + esc(u.balance) + (u.panic ? ' · PANIC' : '') + (u.queued ? ' · queued ' + u.queued : '') + '</td></tr>');
      for (const s of u.servers) {
        const [label, cls] = serverState(s, u);
        const st = s.stats ?? {};
        rows.push('<tr data-server="' + esc(s.url) + '"><td>' + esc(s.url) + (s.backup ? ' (backup)' : '') + '</td><td class="state ' + cls + '">' + label + '</td><td class="num">' + (s.inflight ?? 0) +
          '</td><td class="num">' + (st.requests_per_s != null ? st.requests_per_s.toFixed(1) : '–') + '</td><td class="num">' + (st.error_ratio != null ? (st.error_ratio * 100).toFixed(1) + ' %' : '–') +
          '</td><td class="num">' + ms(st.p50_ms) + '</td><td class="num">' + ms(st.p99_ms) + '</td><td>' + esc(s.breaker ?? '') + '</td><td class="num">' + esc(s.weight) + '</td></tr>');
      }
    }
    $('#servers tbody').innerHTML = rows.join('');
  }

  function renderChart(series) {
    const buckets = [];
    for (const s of series ?? []) s.buckets.forEach((b, i) => {
      const t = (buckets[i] ??= { requests: 0, errors: {} });
      t.requests += b.requests;
      for (const [cause, n] of Object.entries(b.errors ?? {})) t.errors[cause] = (t.errors[cause] ?? 0) + n;
    });
    const W = 600, H = 160, n = Math.max(buckets.length, 1), bw = W / n;
    const max = Math.max(1, ...buckets.map((b) => b.requests));
    let svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" role="img" aria-label="requests and errors">';
    buckets.forEach((b, i) => {
      const h = (b.requests / max) * (H - 4);
      svg += '<rect x="' + (i * bw + 1) + '" y="' + (H - h) + '" width="' + Math.max(bw - 2, 1) + '" height="' + h + '" fill="#30445a"><title>' + b.requests + ' requests</title></rect>';
      let y = H;
      for (const [cause, count] of Object.entries(b.errors)) {
        const eh = (count / max) * (H - 4);
        y -= eh;
        svg += '<rect x="' + (i * bw + 1) + '" y="' + y + '" width="' + Math.max(bw - 2, 1) + '" height="' + eh + '" fill="' + causeColor(cause) + '"><title>' + count + ' ' + esc(cause) + '</title></rect>';
      }
    });
    $('#chart-body').innerHTML = svg + '</svg>';
    $('#legend').innerHTML = '<span><i style="background:#30445a"></i>requests</span>' + Object.keys(colorOf).map((c) => '<span><i style="background:' + colorOf[c] + '"></i>' + esc(c) + '</span>').join('');
  }

  function renderFailures(list) {
    failures = list ?? [];
    $('#failures tbody').innerHTML = failures.map((f, i) => '<tr data-index="' + i + '"><td>' + esc(String(f.time).slice(11, 23)) + '</td><td>' + esc(f.request_id) + '</td><td>' + esc(f.upstream) + ' / ' + esc(f.server) +
      '</td><td class="type">' + esc(f.error_type) + '</td><td class="cause">' + esc(f.cause) + '</td><td>' + esc(f.hint) + '</td></tr>').join('');
  }

  function showDetail(f) {
    const d = $('#detail');
    d.innerHTML = '<dl>' + Object.entries(f).map(([k, v]) => '<dt>' + esc(k) + '</dt><dd>' + esc(v) + '</dd>').join('') + '</dl>';
    d.style.display = 'block';
  }

  $('#failures tbody').addEventListener('click', (e) => {
    const row = e.target.closest('tr');
    if (row) showDetail(failures[Number(row.dataset.index)]);
  });

  function renderEvents(events) {
    $('#events ul').innerHTML = (events ?? []).slice(-40).reverse().map((e) => '<li>' + esc(String(e.at).slice(11, 19)) + ' <b>' + esc(e.kind) + '</b> ' + esc(e.upstream ?? e.labels?.upstream ?? '') + ' ' + esc(e.server ?? e.labels?.server ?? e.host ?? '') + ' ' +
      esc(e.to ?? e.state ?? (e.active != null ? (e.active ? 'on' : 'off') : '')) + ' ' + esc(e.name ?? '') + ' ' + esc(e.reason ?? e.error ?? e.exit?.reason ?? '') + '</li>').join('');
  }

  function renderAlerts(alerts) {
    const active = alerts?.active ?? [];
    $('#alerts ul').innerHTML = active.length === 0 ? '<li class="none">No alert pending or firing</li>' : active.map((a) =>
      '<li><span class="' + esc(a.state) + '">' + esc(a.state.toUpperCase()) + '</span> <b>' + esc(a.name) + '</b> <span class="dim">' + esc(a.severity) + ' · ' +
      esc([a.labels.upstream, a.labels.server].filter(Boolean).join(' / ')) + ' · since ' + esc(String(a.firing_since ?? a.active_since).slice(11, 19)) + '</span> ' +
      esc(a.annotations.summary ?? '') + '</li>').join('');
  }

  let processes = [];
  let shownProcess = null;
  function renderProcesses(list) {
    processes = list ?? [];
    $('#processes').hidden = processes.length === 0;
    const cls = (state) => (state === 'ready' ? 'up' : state === 'starting' || state === 'backoff' || state === 'stopping' ? 'warn' : 'down');
    $('#processes tbody').innerHTML = processes.map((p, i) => '<tr data-index="' + i + '"><td>' + esc(p.upstream) + ' / ' + esc(p.server) + '</td><td class="state ' + cls(p.state) + '">' + esc(p.state) +
      '</td><td class="num">' + esc(p.pid ?? '–') + '</td><td class="num">' + esc(p.restarts) + '</td><td class="num">' + (p.resident_bytes == null ? '–' : (p.resident_bytes / 1048576).toFixed(1) + ' MiB') +
      '</td><td>' + (p.last_exit ? '<span class="cause">' + esc(p.last_exit.reason) + '</span> ' + esc(p.last_exit.detail) : '') + '</td></tr>').join('');
    if (shownProcess !== null) showLines(processes.find((p) => p.upstream + '|' + p.server === shownProcess));
  }
  function showLines(p) {
    const box = $('#proc-lines');
    if (!p) { box.style.display = 'none'; return; }
    box.style.display = 'block';
    box.innerHTML = (p.lines ?? []).map((l) => '<span class="' + esc(l.stream) + '">' + esc(l.line) + '</span>').join('\\n') || '(no output yet)';
  }
  $('#processes tbody').addEventListener('click', (e) => {
    const row = e.target.closest('tr');
    const p = row ? processes[Number(row.dataset.index)] : undefined;
    shownProcess = p ? p.upstream + '|' + p.server : null;
    showLines(p);
  });

  function renderCluster(cluster) {
    $('#cluster').hidden = !cluster;
    if (!cluster) return;
    const current = cluster.config ? cluster.config.revision : null;
    $('#cluster tbody').innerHTML = (cluster.nodes ?? []).map((n) => '<tr><td>' + esc(n.node_id) + '</td><td class="state ' + (n.status === 'ok' && !n.lagging ? 'up' : n.status === 'rejected' ? 'down' : 'warn') + '">' +
      esc(n.status + (n.lagging ? ', lagging' : '')) + '</td><td class="num">' + esc(n.applied_revision) + (current !== null ? ' / ' + esc(current) : '') + '</td><td>' + esc(n.config_hash) + '</td><td>' +
      esc(String(n.updated_at).slice(11, 19)) + '</td><td>' + esc(n.error ?? '') + '</td></tr>').join('');
  }

  function apply(snapshot) {
    $('#meta').textContent = 'pid ' + snapshot.status.pid + ' · config generation ' + snapshot.status.config_generation + ' · ' + snapshot.status.connections + ' client connections · ' + (snapshot.status.workers ? snapshot.status.workers.length + ' workers · ' : '') + new Date(snapshot.time).toLocaleTimeString();
    renderServers(snapshot.status);
    renderChart(snapshot.series);
    renderFailures(snapshot.failures);
    renderEvents(snapshot.events);
    renderAlerts(snapshot.alerts);
    renderProcesses(snapshot.processes);
    renderCluster(snapshot.cluster);
  }

  const source = new EventSource('/api/stream' + q);
  source.onmessage = (m) => { $('#conn').className = 'live'; apply(JSON.parse(m.data)); };
  source.onerror = () => { $('#conn').className = 'lost'; };
})();
</script>
</body>
</html>
`;
