// The example page: log in to the app, then query Tessera from the browser with a token provider.
import { tessera, TesseraError } from '/vendor/tessera-client.js';

const MEASURE_COUNT = 'Orders.count';
const MEASURE_AMOUNT = 'Orders.totalAmount';
const TIME_DIMENSION = 'Orders.createdAt';
const MONTH = `${TIME_DIMENSION}.month`;

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

let client;
let tokenPromise;
let tokensFetched = 0;

// Fetches a token from our own backend and caches it until Tessera says it expired.
// The default parameter lets Cube's own client, which passes no argument, use it too.
function tokenProvider({ forceRefresh = false } = {}) {
  if (forceRefresh || tokenPromise === undefined) {
    tokenPromise = fetch('/auth/tessera-token', { credentials: 'same-origin', cache: 'no-store' }).then(async (res) => {
      if (res.status === 401) {
        showLogin();
        throw new Error('The app session ended; log in again.');
      }
      if (!res.ok) throw new Error(`The token route answered ${res.status}.`);
      const { token } = await res.json();
      tokensFetched += 1;
      $('token-count').textContent = String(tokensFetched);
      return token;
    });
    // A failed fetch must not stick: the next call tries again.
    tokenPromise.catch(() => {
      tokenPromise = undefined;
    });
  }
  return tokenPromise;
}

function startSession(user) {
  $('who').textContent = user.displayName;
  $('account').hidden = false;
  $('login').hidden = true;
  $('dashboard').hidden = false;
  tokenPromise = undefined;
  client = tessera(tokenProvider, { apiUrl: `${location.origin}/cubejs-api/v1`, fetchTimeoutMs: 30000 });
  void loadOrders();
}

function showLogin() {
  client = undefined;
  tokenPromise = undefined;
  $('account').hidden = true;
  $('dashboard').hidden = true;
  $('login').hidden = false;
}

async function loadOrders() {
  const year = $('year').value;
  $('status').textContent = 'Loading…';
  $('error').textContent = '';
  try {
    const resultSet = await client.load({
      measures: [MEASURE_COUNT, MEASURE_AMOUNT],
      timeDimensions: [{ dimension: TIME_DIMENSION, granularity: 'month', dateRange: [`${year}-01-01`, `${year}-12-31`] }],
    });
    renderTable(resultSet.tablePivot());
    renderChart(resultSet.chartPivot());
    $('status').textContent = `Loaded ${year} at ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded ?? 0) + 1);
  } catch (e) {
    $('status').textContent = '';
    $('error').textContent = e instanceof TesseraError ? `${e.message} (${e.code})` : String(e?.message ?? e);
  }
}

function renderTable(rows) {
  const body = $('orders').tBodies[0];
  const foot = $('orders').tFoot;
  body.replaceChildren();
  let count = 0;
  let amount = 0;
  for (const row of rows) {
    const tr = body.insertRow();
    const month = String(row[MONTH]).slice(0, 7);
    tr.dataset.month = month;
    tr.dataset.count = String(row[MEASURE_COUNT] ?? 0);
    tr.dataset.amount = String(row[MEASURE_AMOUNT] ?? 0);
    cell(tr, month);
    cell(tr, Number(row[MEASURE_COUNT] ?? 0).toLocaleString('en-US'), 'num');
    cell(tr, money(row[MEASURE_AMOUNT]), 'num');
    count += Number(row[MEASURE_COUNT] ?? 0);
    amount += Number(row[MEASURE_AMOUNT] ?? 0);
  }
  foot.replaceChildren();
  const total = foot.insertRow();
  cell(total, 'Total');
  cell(total, count.toLocaleString('en-US'), 'num');
  cell(total, money(amount), 'num');
}

function cell(tr, text, className) {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

const money = (v) => Number(v ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function svg(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// A bar chart of orders per month, drawn as inline SVG without a chart library.
function renderChart(points) {
  const width = 800;
  const height = 260;
  const pad = { left: 44, right: 12, top: 12, bottom: 28 };
  const highest = Math.max(1, ...points.map((p) => Number(p[MEASURE_COUNT] ?? 0)));
  // An even top keeps the middle grid line on a whole number.
  const max = highest % 2 === 0 ? highest : highest + 1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / Math.max(points.length, 1);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Orders per month' });
  for (const f of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - f);
    root.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    root.append(svg('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end' }, String(max * f)));
  }
  points.forEach((p, i) => {
    const value = Number(p[MEASURE_COUNT] ?? 0);
    const h = (value / max) * plotH;
    const x = pad.left + i * slot + slot * 0.15;
    const bar = svg('rect', { class: 'bar', x, y: pad.top + plotH - h, width: slot * 0.7, height: h, 'data-month': p.x.slice(0, 7), 'data-value': value });
    bar.append(svg('title', {}, `${p.x.slice(0, 7)}: ${value} orders`));
    root.append(bar);
    root.append(svg('text', { x: x + slot * 0.35, y: height - 10, 'text-anchor': 'middle' }, p.x.slice(5, 7)));
  });
  $('chart').replaceChildren(root);
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $('login-error').textContent = '';
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
  });
  if (!res.ok) {
    $('login-error').textContent = (await res.json()).error;
    return;
  }
  event.target.reset();
  startSession(await res.json());
});

$('logout').addEventListener('click', async () => {
  await fetch('/logout', { method: 'POST' });
  showLogin();
});

$('reload').addEventListener('click', () => void loadOrders());
$('year').addEventListener('change', () => void loadOrders());

const me = await fetch('/me', { credentials: 'same-origin' });
if (me.ok) startSession(await me.json());
else showLogin();
