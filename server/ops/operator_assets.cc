#include "server/ops/operator_assets.h"

namespace noqueue::server {

const char kOperatorHtml[] = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NoQueue: operator</title>
<link rel="stylesheet" href="/operator.css">
</head>
<body>
<header><h1 id="title">NoQueue</h1><p id="subtitle"></p></header>
<main id="main"><p id="message">Loading&hellip;</p></main>
<script src="/operator.js"></script>
</body>
</html>
)html";

const char kOperatorCss[] = R"css(
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1b4d6b; color: white; padding: 12px 24px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; opacity: 0.85; }
main { padding: 16px 24px; }
section { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
section h2 { margin: 0 0 8px; font-size: 17px; }
.figures { display: flex; gap: 32px; flex-wrap: wrap; }
.figure b { display: block; font-size: 26px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; }
th { background: #f3f3f3; }
td.moved { color: #b35900; font-weight: 600; }
.error { color: #a00; font-weight: 600; }
ul { margin: 0; padding-left: 20px; }
)css";

const char kOperatorJs[] = R"js('use strict';
(function () {
  // The key comes in the fragment (#key=...), which browsers never send: it
  // is kept for this tab and taken out of the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('key')) {
    sessionStorage.setItem('noqueueKey', fragment.get('key'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const key = sessionStorage.getItem('noqueueKey') || '';
  const main = document.getElementById('main');

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  async function get(path, asText) {
    const headers = key ? { Authorization: 'Bearer ' + key } : {};
    const response = await fetch(path, { headers });
    if (!response.ok) {
      let message = 'HTTP ' + response.status;
      try { message = (await response.json()).error.message; } catch (_) {}
      throw new Error(message);
    }
    return asText ? response.text() : response.json();
  }

  function clock(ts, zone) {
    if (!ts) return '';
    return new Date(ts).toLocaleTimeString('en-GB',
        { timeZone: zone, hour: '2-digit', minute: '2-digit' });
  }
  function minutes(duration) {  // the JSON mapping's "754.5s"
    return duration ? (parseFloat(duration) / 60).toFixed(1) + ' min' : '0 min';
  }
  function stateName(state) {
    return (state || 'ATTENDEE_EXPECTED').replace('ATTENDEE_', '').toLowerCase();
  }
  function fail(error) {
    main.replaceChildren(el('p', { id: 'message', class: 'error' },
        String(error.message || error)));
  }

  async function venueList() {
    const data = await get('/api/venues');
    const list = el('ul', { id: 'venues' });
    for (const v of data.venues || []) {
      list.append(el('li', {}, el('a', { href: '/venues/' +
          encodeURIComponent(v.venueId) }, v.displayName || v.venueId),
          ' (' + v.venueId + ', ' + v.timeZone + ')'));
    }
    main.replaceChildren(el('section', {}, el('h2', {}, 'Venues'), list));
  }

  function statusSection(view) {
    const s = view.status || {};
    const known = s.state === 'STATUS_STATE_KNOWN';
    const figure = (label, value) =>
        el('div', { class: 'figure' }, el('b', {}, value), label);
    return el('section', { id: 'status' }, el('h2', {}, 'Live status'),
        el('div', { class: 'figures' },
            figure('median wait', known ? minutes(s.waitP50) : 'unknown'),
            figure('P90 wait', known ? minutes(s.waitP90) : 'unknown'),
            figure('in the queue', known ? (s.queueLength || 0).toFixed(1) : 'unknown'),
            figure('served per minute',
                   (s.serviceRatePerMinute || 0).toFixed(2))),
        el('p', {}, 'As of ' + clock(view.now, view.venue.timeZone) + ', from ' +
            (s.reportsUsed || 0) + ' crowd reports and ' + (s.tagsUsed || 0) +
            ' tags.'));
  }

  function chartSection(svgText) {
    const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    return el('section', { id: 'queue-chart' },
        el('h2', {}, 'The queue over the day'),
        document.importNode(doc.documentElement, true));
  }

  function retimingSection(view) {
    const zone = view.venue.timeZone;
    const all = [];
    for (const s of view.schedules || []) {
      for (const e of s.recentRetimings || []) all.push(e);
    }
    all.sort((a, b) => (b.seq || 0) - (a.seq || 0));
    const list = el('ul', { id: 'retimings' });
    for (const e of all.slice(0, 20)) {
      list.append(el('li', {}, clock(e.at, zone) + ': ' + e.attendeeId +
          ' moved from ' + clock(e.previousTime, zone) + ' to ' +
          clock(e.convocationTime, zone) + (e.reason ? ' (' + e.reason + ')' : '')));
    }
    if (!all.length) list.append(el('li', {}, 'No re-timing today.'));
    return el('section', {}, el('h2', {}, 'Last re-timings'), list);
  }

  function scheduleSection(s, zone) {
    const schedule = s.schedule;
    const tags = {};
    for (const a of s.attendees || []) tags[a.attendeeId] = a;
    const body = el('tbody');
    for (const c of schedule.convocations || []) {
      const t = tags[c.attendeeId] || {};
      const moved = c.originalTime && c.originalTime !== c.convocationTime;
      body.append(el('tr', {},
          el('td', {}, c.attendeeId),
          el('td', moved ? { class: 'moved' } : {}, clock(c.convocationTime, zone)),
          el('td', {}, clock(c.originalTime || c.convocationTime, zone)),
          el('td', {}, clock((c.predictedArrival || {}).p50, zone)),
          el('td', {}, clock(t.arrived, zone)),
          el('td', {}, clock(t.serviceStarted, zone)),
          el('td', {}, stateName(c.state))));
    }
    const head = el('tr', {}, ...['attendee', 'convocation', 'first promised',
        'predicted arrival', 'arrived', 'service began', 'state']
        .map((h) => el('th', {}, h)));
    const kpis = schedule.kpis || {};
    return el('section', { id: 'schedule-' + schedule.scheduleId, class: 'schedule' },
        el('h2', {}, 'Schedule ' + schedule.scheduleId + ': ' +
            clock(schedule.windowStart, zone) + ' to ' +
            clock(schedule.windowEnd, zone) + ', ' +
            (schedule.convocations || []).length + ' attendees'),
        el('p', {}, 'Promised mean wait ' + minutes(kpis.expectedMeanWait) +
            ', P90 ' + minutes(kpis.p90Wait) + '.'),
        el('table', {}, el('thead', {}, head), body));
  }

  async function venuePage(venueId) {
    const day = new URLSearchParams(location.search).get('day');
    const query = day ? '?day=' + encodeURIComponent(day) : '';
    const base = '/api/venues/' + encodeURIComponent(venueId);
    const [view, svg] = await Promise.all(
        [get(base + query), get(base + '/queue.svg' + query, true)]);
    const zone = view.venue.timeZone;
    document.getElementById('title').textContent =
        'NoQueue: ' + (view.venue.displayName || venueId);
    document.getElementById('subtitle').textContent =
        view.day + ' (' + zone + '), ' + (view.schedules || []).length +
        ' schedule(s)';
    document.title = 'NoQueue: ' + (view.venue.displayName || venueId);
    main.replaceChildren(statusSection(view), chartSection(svg),
        retimingSection(view),
        ...(view.schedules || []).map((s) => scheduleSection(s, zone)));
  }

  async function render() {
    try {
      if (!key) throw new Error('No API key: open this page as ' +
          location.pathname + '#key=<API key>');
      const prefix = '/venues/';
      if (location.pathname.startsWith(prefix)) {
        await venuePage(decodeURIComponent(location.pathname.slice(prefix.length)));
      } else {
        await venueList();
      }
    } catch (error) {
      fail(error);
    }
  }
  render();
  setInterval(render, 30000);
})();
)js";

}  // namespace noqueue::server
