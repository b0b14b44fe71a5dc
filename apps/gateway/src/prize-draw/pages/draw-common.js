/* global window, document, fetch, io, URL, URLSearchParams */
// Helpers shared by the entry page and the admin page: the API, live updates
// from the realtime app (namespace /draws, through the gateway), and safe DOM
// building. Nothing here writes HTML from data: every text goes in as text.
(function () {
  'use strict';

  const DRAW_ID = /^[a-z0-9_-]{1,64}$/;
  const DEFAULT_DRAW = 'main';

  const STATES = {
    NO_DRAW: { label: 'No draw', tag: 'is-light' },
    DRAW_OPEN_NO_ENTRANTS: { label: 'Open', tag: 'is-success' },
    DRAW_OPEN_WITH_ENTRANTS: { label: 'Open', tag: 'is-success' },
    DRAW_CLOSED_NO_ENTRANTS: { label: 'Closed', tag: 'is-warning' },
    DRAW_CLOSED_WITH_ENTRANTS: { label: 'Closed', tag: 'is-warning' },
    DRAW_WON: { label: 'Winners picked', tag: 'is-info' },
  };

  const isOpen = (state) =>
    state === 'DRAW_OPEN_NO_ENTRANTS' || state === 'DRAW_OPEN_WITH_ENTRANTS';

  /** The draw named by ?id=, else the default one. */
  function drawIdFromLocation() {
    const id = (new URLSearchParams(window.location.search).get('id') || '').trim().toLowerCase();
    return DRAW_ID.test(id) ? id : DEFAULT_DRAW;
  }

  /** Calls the API on this origin; resolves { status, body } and never throws for HTTP errors. */
  async function api(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      return {
        status: 0,
        body: { message: 'The server cannot be reached; check your connection.' },
      };
    }
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text };
    }
    return { status: response.status, body: parsed };
  }

  /** The message of an API error answer, for people. */
  function errorMessage(answer, fallback) {
    return (answer.body && answer.body.message) || fallback || `Error ${answer.status}`;
  }

  /** Builds an element: el('p', { class: 'x', text: 'hello' }, [children]). */
  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  /** Only http(s) images are shown; anything else gets no picture. */
  function safeImage(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function avatar(url, alt, size) {
    const src = safeImage(url);
    const figure = el('figure', { class: `image ${size || 'is-48x48'} draw-avatar` });
    if (src) {
      figure.append(el('img', { class: 'is-rounded', src, alt, loading: 'lazy' }));
    } else {
      figure.append(el('span', { class: 'draw-avatar-blank', 'aria-hidden': 'true' }));
    }
    return figure;
  }

  /** The winners list: one media object per winner. */
  function renderWinners(list, winners, highlight) {
    list.replaceChildren();
    if (!winners.length) {
      list.append(el('p', { class: 'has-text-grey', text: 'Nobody won: there were no entrants.' }));
      return;
    }
    for (const winner of winners) {
      const mine = highlight && highlight(winner);
      list.append(
        el('article', { class: `media draw-winner${mine ? ' is-mine' : ''}` }, [
          el('div', { class: 'media-left' }, [avatar(winner.image, winner.name, 'is-64x64')]),
          el('div', { class: 'media-content' }, [
            el('p', { class: 'title is-5 draw-winner-name', text: winner.name }),
            el('p', { class: 'subtitle is-6 draw-winner-prize', text: winner.prize }),
            mine ? el('span', { class: 'tag is-success', text: 'That is you!' }) : null,
          ]),
        ]),
      );
    }
  }

  function renderPrizes(list, prizes, emptyText) {
    list.replaceChildren();
    if (!prizes.length) {
      list.append(el('li', { class: 'has-text-grey', text: emptyText }));
      return;
    }
    for (const prize of prizes) list.append(el('li', { text: prize }));
  }

  function setState(tag, state) {
    const info = STATES[state] || STATES.NO_DRAW;
    tag.className = `tag is-medium ${info.tag}`;
    tag.textContent = info.label;
  }

  /** "4 min 05 s" until `iso`, or null once it has passed. */
  function timeLeft(iso) {
    const ms = Date.parse(iso) - Date.now();
    if (!(ms > 0)) return null;
    const total = Math.ceil(ms / 1000);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, '0');
    if (hours) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
    if (minutes) return `${minutes} min ${seconds} s`;
    return `${total % 60} s`;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
  }

  /**
   * Live updates of one draw: connects to the realtime app's /draws namespace
   * on this origin (WebSocket only), naming the draw in the handshake, and
   * calls `handlers[event](payload)`; `handlers.connected()` after every
   * (re)connection, so a page can catch up on what it missed.
   */
  function watchDraw(drawId, handlers, indicator) {
    if (typeof io !== 'function') {
      if (indicator) showLive(indicator, false);
      return { connected: false, close() {} };
    }
    const socket = io('/draws', {
      transports: ['websocket'],
      forceNew: true,
      auth: { draw: drawId },
      reconnectionDelayMax: 5000,
    });
    socket.on('connect', () => {
      if (indicator) showLive(indicator, true);
      if (handlers.connected) handlers.connected();
    });
    socket.on('disconnect', () => indicator && showLive(indicator, false));
    socket.on('connect_error', () => indicator && showLive(indicator, false));
    for (const event of ['draw:started', 'draw:entrants', 'draw:closed', 'draw:winners']) {
      socket.on(event, (payload) => {
        if (payload && payload.id === drawId && handlers[event]) handlers[event](payload);
      });
    }
    return socket;
  }

  function showLive(indicator, live) {
    indicator.className = `tag ${live ? 'is-success is-light' : 'is-light'}`;
    indicator.textContent = live ? 'Live' : 'Offline: reconnecting…';
    indicator.dataset.live = live ? 'yes' : 'no';
  }

  window.LatticeDraw = {
    DRAW_ID,
    DEFAULT_DRAW,
    isOpen,
    drawIdFromLocation,
    api,
    errorMessage,
    el,
    avatar,
    renderWinners,
    renderPrizes,
    setState,
    timeLeft,
    formatTime,
    watchDraw,
  };
})();
