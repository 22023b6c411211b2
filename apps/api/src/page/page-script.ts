import { describeFaults } from '@three-tier/shared';

/**
 * The live page's script, shipped inline and allowed by its hash. Plain ES2020 in a string: no
 * build step, no template literals (they would clash with this file's own), data put in the DOM
 * with textContent only.
 *
 * It polls ./instance (counts nothing) through the edge, one request at a time, and draws from the
 * answers: who answers and how often, who appeared or went, the state of the edge, the instances and
 * Redis, and the visit count as read. Buttons count a visit, send a burst, and run /load at a rate.
 */
export const pageScript = `
(() => {
  'use strict';
  const pollEveryMs = 250;
  const pollTimeoutMs = 2000;
  const shareWindowMs = 10000;
  const newForMs = 6000;
  const forgetAfterMs = 60000;
  // Instances answering in the first moments are the ones already there, not new ones.
  const settleMs = 2000;
  const burstSize = 20;
  const burstParallel = 4;
  // Browsers open six connections per origin: load keeps two free for the polls and the buttons.
  const loadParallel = 4;
  const loadWindowMs = 5000;

  const $ = (id) => document.getElementById(id);
  const started = Date.now();
  const servedBy = $('hostname').textContent;
  const instances = new Map();
  const samples = [];
  const polls = [];
  let lastPoll = null;
  let lastAnswer = null;
  let redisSaid = '';
  let edgeSaid = '';

  for (const element of document.querySelectorAll('[data-live]')) element.hidden = false;

  function el(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }
  function clock() {
    return new Date().toLocaleTimeString([], { hour12: false });
  }
  function announce(text) {
    $('status').textContent = clock() + ' · ' + text;
  }
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function nameOf(hostname) {
    const known = instances.get(hostname);
    return known && known.alias ? known.alias + ' (' + hostname + ')' : hostname;
  }
  function hueOf(hostname) {
    const known = instances.get(hostname);
    return known ? known.hue : undefined;
  }
  function swatch(hue) {
    const dot = el('span', 'swatch');
    dot.setAttribute('aria-hidden', 'true');
    if (typeof hue === 'number') dot.style.setProperty('--hue', String(hue));
    return dot;
  }

  /** One request with a deadline; never throws: a failure is an answer with status 0. */
  async function call(path, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const began = performance.now();
    try {
      const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', signal: controller.signal });
      const text = await response.text();
      let body = null;
      try { body = JSON.parse(text); } catch (_) { body = null; }
      return { status: response.status, ok: response.ok, body: body, ms: performance.now() - began };
    } catch (_) {
      const error = controller.signal.aborted
        ? 'no answer within ' + timeoutMs / 1000 + ' s: the edge, or the instance it chose, is slow'
        : 'the connection failed';
      return { status: 0, ok: false, body: null, ms: performance.now() - began, error: error };
    } finally {
      clearTimeout(timer);
    }
  }
  /** What went wrong, in words: the problem's detail when there is one. */
  function failure(result) {
    if (result.status === 0) return result.error;
    const detail = result.body && typeof result.body.detail === 'string' ? result.body.detail : '';
    return result.status + (detail ? ' · ' + detail : '');
  }

  function onPoll(result) {
    const now = Date.now();
    lastPoll = Object.assign({ at: now }, result);
    polls.push({ t: now, ok: result.ok });
    const body = result.body;
    if (!result.ok || !body || typeof body.hostname !== 'string') return;
    lastAnswer = Object.assign({ at: now }, body);
    samples.push({ t: now, host: body.hostname });
    let known = instances.get(body.hostname);
    if (!known) {
      known = { hostname: body.hostname, firstSeen: now, row: null, gone: false, fresh: now - started > settleMs };
      instances.set(body.hostname, known);
      if (known.fresh) announce((body.alias || body.hostname) + ' (' + body.hostname + ') appeared and takes requests.');
    } else if (known.gone) {
      known.gone = false;
      announce(nameOf(body.hostname) + ' answers again.');
    }
    Object.assign(known, {
      alias: body.alias, hue: body.hue, version: body.version, uptimeSeconds: body.uptimeSeconds,
      state: body.state, faults: body.faults, lastSeen: now,
    });
    // The state, not its detail: instances word the same outage differently, and the status line
    // would flap between them.
    const redis = body.redis || {};
    if (redisSaid && redis.state !== redisSaid) announce('Redis is ' + redis.state + (redis.detail ? ': ' + redis.detail : '.'));
    redisSaid = redis.state;
  }

  // The words the CLIs use too: the shared function's own source.
  const describeFaults = ${describeFaults.toString()};
  // Answers to the buttons count as signs of life too: the edge's round robin can line the polls
  // up with other requests so that one instance misses the polls for a while, alive all along.
  function sawAnswer(hostname) {
    const known = instances.get(hostname);
    if (known && !known.gone) known.lastSeen = Math.max(known.lastSeen, Date.now());
  }

  function faultBadges(faults) {
    if (!faults) return [];
    return describeFaults(faults).map((words) => ['fault: ' + words, words === 'unready' ? 'bad' : 'warn']);
  }

  function drawInstances(now) {
    while (samples.length > 0 && samples[0].t < now - shareWindowMs) samples.shift();
    const shares = new Map();
    for (const sample of samples) shares.set(sample.host, (shares.get(sample.host) || 0) + 1);
    let live = 0;
    for (const known of instances.values()) if (!known.gone) live += 1;
    // Round robin reaches each of n instances every n polls; a few rounds missed is gone.
    const goneAfterMs = Math.max(4000, 4 * pollEveryMs * Math.max(live, 1));
    const list = $('instances');
    for (const known of instances.values()) {
      const silent = now - known.lastSeen;
      if (silent > forgetAfterMs) {
        if (known.row) known.row.remove();
        instances.delete(known.hostname);
        continue;
      }
      if (!known.gone && silent > goneAfterMs) {
        known.gone = true;
        announce(nameOf(known.hostname) + ' is gone: no answer for ' + Math.round(silent / 1000) + ' s.');
      }
      if (!known.row) {
        known.row = el('li', 'instance');
        known.row.dataset.hostname = known.hostname;
        const name = el('div', 'name');
        name.append(swatch(), el('strong', 'alias'), el('code', 'host'), el('span', 'badges'));
        const bar = el('div', 'bar');
        bar.setAttribute('aria-hidden', 'true');
        bar.append(el('span'));
        known.row.append(name, bar, el('span', 'pct'), el('div', 'meta'));
        list.append(known.row);
      }
      const row = known.row;
      row.style.setProperty('--hue', String(known.hue));
      row.classList.toggle('gone', known.gone);
      row.querySelector('.alias').textContent = known.alias || known.hostname;
      row.querySelector('.host').textContent = known.hostname;
      const badges = [];
      if (known.hostname === servedBy) badges.push(['served this page', '']);
      if (known.gone) badges.push(['gone', 'bad']);
      else if (known.fresh && now - known.firstSeen < newForMs) badges.push(['new', 'ok']);
      if (known.state && known.state !== 'ready') badges.push([known.state, known.state === 'draining' ? 'warn' : 'bad']);
      const holder = row.querySelector('.badges');
      holder.replaceChildren(...badges.concat(faultBadges(known.faults)).map((badge) => el('span', 'badge ' + badge[1], badge[0])));
      const count = shares.get(known.hostname) || 0;
      const percent = samples.length > 0 ? Math.round((100 * count) / samples.length) : 0;
      row.querySelector('.bar span').style.width = percent + '%';
      row.querySelector('.pct').textContent = percent + '%';
      const up = known.gone ? 'last answer ' + duration(silent / 1000) + ' ago'
        : 'up ' + duration(known.uptimeSeconds + silent / 1000);
      row.querySelector('.meta').textContent = count + ' of the last ' + samples.length + ' answers · ' + up + ' · v' + known.version;
      row.setAttribute('aria-label', (known.alias || '') + ' ' + known.hostname + ': ' + percent + ' percent of answers' + (known.gone ? ', gone' : ''));
    }
    $('no-instances').hidden = instances.size > 0;
  }

  function line(id, level, text) {
    const dot = el('span', 'dot ' + level);
    dot.setAttribute('aria-hidden', 'true');
    $(id).replaceChildren(dot, document.createTextNode(text));
  }

  function drawBehind(now) {
    while (polls.length > 0 && polls[0].t < now - shareWindowMs) polls.shift();
    const failed = polls.filter((poll) => !poll.ok).length;
    const tail = failed > 0 ? ' · ' + failed + ' of the last ' + polls.length + ' polls failed' : '';
    let edgeText;
    let edgeLevel;
    if (!lastPoll) {
      edgeText = 'waiting for the first answer';
      edgeLevel = '';
    } else if (lastPoll.ok) {
      edgeText = 'answers · ' + Math.round(lastPoll.ms) + ' ms' + tail;
      edgeLevel = failed > 0 ? 'warn' : 'ok';
    } else if (lastPoll.status === 0) {
      edgeText = 'no answer: ' + lastPoll.error + tail;
      edgeLevel = 'bad';
    } else {
      const gateway = lastPoll.status >= 502 && lastPoll.status <= 504;
      edgeText = (gateway ? 'answers, but no instance did: ' : 'answered ') + failure(lastPoll) + tail;
      edgeLevel = 'bad';
    }
    line('edge-line', edgeLevel, edgeText);
    if (edgeLevel === 'bad' && edgeSaid !== 'bad') announce('Edge: ' + edgeText);
    if (edgeLevel !== 'bad' && edgeSaid === 'bad') announce('Edge: answers again.');
    edgeSaid = edgeLevel;

    const states = {};
    let gone = 0;
    for (const known of instances.values()) {
      if (known.gone) gone += 1;
      else states[known.state] = (states[known.state] || 0) + 1;
    }
    const live = instances.size - gone;
    const parts = Object.keys(states).sort().map((state) => states[state] + ' ' + state);
    const apiText = live + (live === 1 ? ' instance answers' : ' instances answer') + (parts.length ? ' · ' + parts.join(', ') : '') + (gone ? ' · ' + gone + ' gone' : '');
    line('api-line', live === 0 ? 'bad' : states.ready === live && gone === 0 ? 'ok' : 'warn', apiText);

    if (!lastAnswer) {
      line('redis-line', '', 'unknown: no instance has answered yet');
    } else {
      const redis = lastAnswer.redis || {};
      const stale = now - lastAnswer.at > 3000 ? ' (as of ' + duration((now - lastAnswer.at) / 1000) + ' ago)' : '';
      const latency = typeof redis.latencyMs === 'number' ? ' · ' + redis.latencyMs + ' ms' : '';
      const detail = redis.detail ? ' · ' + redis.detail : '';
      line('redis-line', redis.state === 'up' ? 'ok' : 'bad', (redis.state || 'unknown') + latency + detail + stale);
      const hits = lastAnswer.hits;
      $('hits').textContent = typeof hits === 'number' ? String(hits) : '—';
      $('hits-note').textContent = typeof hits === 'number' ? 'as read from Redis by the polls, which count nothing'
        : 'Redis is ' + (redis.state || 'not answering') + ': the count cannot be read';
    }
  }

  function draw() {
    const now = Date.now();
    try {
      drawInstances(now);
      drawBehind(now);
      drawLoad(now);
    } catch (error) {
      announce('The page failed to draw: ' + error.message);
      console.error(error);
    }
  }

  async function pollForever() {
    for (;;) {
      const began = Date.now();
      onPoll(await call('./instance', pollTimeoutMs));
      draw();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pollEveryMs - (Date.now() - began))));
    }
  }

  // In the instance list's order, failures last: the same instance in the same place everywhere.
  function tallyList(list, counts) {
    const order = Array.from(instances.keys());
    const rank = (key) => (key.charAt(0) === '!' ? order.length + 1 : order.indexOf(key) < 0 ? order.length : order.indexOf(key));
    const entries = Array.from(counts.entries()).sort((a, b) => rank(a[0]) - rank(b[0]));
    list.replaceChildren(...entries.map((entry) => {
      const item = el('li');
      const isHost = entry[0].charAt(0) !== '!';
      if (isHost) item.append(swatch(hueOf(entry[0])));
      item.append(el('span', isHost ? '' : 'problem', (isHost ? nameOf(entry[0]) : entry[0].slice(1)) + ': ' + entry[1]));
      return item;
    }));
  }

  $('count').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    const result = await call('./redis', 5000);
    button.disabled = false;
    if (result.ok && result.body && typeof result.body.hits === 'number') {
      $('message').textContent = result.body.message;
      $('message').classList.remove('unavailable');
      $('hits').textContent = String(result.body.hits);
      sawAnswer(result.body.hostname);
      $('count-result').textContent = clock() + ' · Visit ' + result.body.hits + ' counted by ' + nameOf(result.body.hostname) + '.';
    } else {
      $('count-result').textContent = clock() + ' · Not counted: ' + failure(result);
    }
  });

  // The burst asks /redis: each answer is a real visit, counted by whichever instance the edge
  // chose, so the tally and the counter tell one story (20 more visits, shared out).
  $('burst').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    $('burst-result').textContent = 'Sending ' + burstSize + ' visits...';
    const counts = new Map();
    let next = 0;
    let counted = 0;
    const worker = async () => {
      while (next < burstSize) {
        next += 1;
        const result = await call('./redis', 5000);
        const key = result.ok && result.body && result.body.hostname ? result.body.hostname : '!' + failure(result);
        if (result.ok) {
          counted += 1;
          sawAnswer(key);
        }
        counts.set(key, (counts.get(key) || 0) + 1);
        tallyList($('burst-tally'), counts);
      }
    };
    await Promise.all(Array.from({ length: burstParallel }, worker));
    button.disabled = false;
    const shared = Array.from(counts.keys()).filter((key) => key.charAt(0) !== '!').length;
    $('burst-result').textContent = 'Burst: ' + counted + ' of ' + burstSize + ' counted, by ' + shared + (shared === 1 ? ' instance.' : ' instances.');
  });

  const load = { timer: null, inFlight: 0, sent: 0, skipped: 0, results: [], hosts: new Map(), statuses: new Map() };
  function loadTick() {
    if (load.inFlight >= loadParallel) {
      load.skipped += 1;
      return;
    }
    load.inFlight += 1;
    load.sent += 1;
    const ms = $('load-ms').value;
    void call('./load?ms=' + encodeURIComponent(ms), 20000).then((result) => {
      load.inFlight -= 1;
      load.results.push({ t: Date.now(), ok: result.ok });
      if (result.ok && result.body && result.body.hostname) {
        load.hosts.set(result.body.hostname, (load.hosts.get(result.body.hostname) || 0) + 1);
        sawAnswer(result.body.hostname);
      } else {
        const key = result.status === 0 ? 'none' : String(result.status);
        load.statuses.set(key, (load.statuses.get(key) || 0) + 1);
        if (result.status !== 429 && result.status !== 503) load.lastProblem = failure(result);
      }
    });
  }
  function drawLoad(now) {
    while (load.results.length > 0 && load.results[0].t < now - loadWindowMs) load.results.shift();
    const done = load.results.filter((result) => result.ok).length;
    const elapsed = Math.min(loadWindowMs, now - (load.startedAt || now)) || loadWindowMs;
    $('load-throughput').textContent = load.timer || done > 0 ? (done / (elapsed / 1000)).toFixed(1) + '/s' : '—';
    $('load-sent').textContent = String(load.sent);
    $('load-429').textContent = String(load.statuses.get('429') || 0);
    $('load-503').textContent = String(load.statuses.get('503') || 0);
    let other = 0;
    for (const entry of load.statuses) if (entry[0] !== '429' && entry[0] !== '503') other += entry[1];
    $('load-other').textContent = String(other);
    $('load-note').textContent = (load.skipped > 0 ? load.skipped + ' not sent: ' + loadParallel + ' already waiting (the browser keeps connections for the polls). ' : '')
      + (other > 0 && load.lastProblem ? 'Last other failure: ' + load.lastProblem : '');
    tallyList($('load-tally'), load.hosts);
  }
  $('load-toggle').addEventListener('click', (event) => {
    const button = event.currentTarget;
    if (load.timer) {
      clearInterval(load.timer);
      load.timer = null;
      button.setAttribute('aria-pressed', 'false');
      button.textContent = 'Start load';
      announce('Load stopped after ' + load.sent + ' requests.');
      return;
    }
    const ms = $('load-ms');
    const rate = $('load-rate');
    if (!ms.reportValidity() || !rate.reportValidity()) return;
    Object.assign(load, { sent: 0, skipped: 0, results: [], hosts: new Map(), statuses: new Map(), startedAt: Date.now(), lastProblem: '' });
    load.timer = setInterval(loadTick, 1000 / Number(rate.value));
    loadTick();
    button.setAttribute('aria-pressed', 'true');
    button.textContent = 'Stop load';
    announce('Load started: /load?ms=' + ms.value + ' at ' + rate.value + ' requests/s.');
  });

  // Drawn on a clock too, so a poll that hangs still lets instances go grey.
  setInterval(draw, 500);
  void pollForever();
})();
`;
