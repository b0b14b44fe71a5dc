/* global document, window */
// The entry page: shows one draw (?id=, "main" by default), lets anyone enter
// with their GitHub user name, and follows the draw live: entrant count,
// closing, and the winners, without a reload.
(function () {
  'use strict';
  const D = window.LatticeDraw;
  const $ = (id) => document.getElementById(id);
  const drawId = D.drawIdFromLocation();
  let view = null;
  let entered = null;
  let winners = null;
  let refreshTimer = null;

  $('draw-name').textContent = drawId;
  document.title = `Prize draw ${drawId}`;

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function render() {
    if (!view) return;
    D.setState($('state'), view.state);
    $('state').dataset.state = view.state;
    const exists = view.state !== 'NO_DRAW';
    const open = D.isOpen(view.state);
    const won = view.state === 'DRAW_WON';
    show('no-draw', !exists);
    show('details-box', exists);
    show('enter-box', open && !entered);
    show('entered-box', Boolean(entered));
    show('closed-box', exists && !open && !won);
    show('winners-box', won && Boolean(winners));
    $('entrants').textContent = String(view.entrants);
    $('prizes-heading').textContent = won ? 'Prizes not won' : 'Prizes';
    D.renderPrizes($('prizes'), view.prizes, won ? 'Every prize was won.' : 'No prizes listed.');
    renderClosing();
    if (won && winners) {
      D.renderWinners($('winners'), winners, (w) =>
        Boolean(entered && w.name === entered.name && w.image === entered.image),
      );
    }
  }

  function renderClosing() {
    const open = view && D.isOpen(view.state);
    const left = open && view.closesAt ? D.timeLeft(view.closesAt) : null;
    if (open && view.closesAt) {
      $('closes-heading').textContent = 'Closes in';
      $('closes').textContent = left || 'closing…';
      // Its duration ran out: the server says so; ask it (the realtime app is told only of closing by hand).
      if (!left) scheduleRefresh(1000);
    } else if (view && !open && view.closesAt) {
      $('closes-heading').textContent = 'Closed';
      $('closes').textContent = D.formatTime(view.closesAt);
    }
    show('closes-item', Boolean(view && view.closesAt));
  }

  function scheduleRefresh(ms) {
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(() => {
      refreshTimer = null;
      void load();
    }, ms);
  }

  async function load() {
    const answer = await D.api('GET', `/api/draws/${drawId}`);
    if (answer.status !== 200) {
      $('load-error').textContent = D.errorMessage(answer, 'The draw could not be loaded.');
      show('load-error', true);
      scheduleRefresh(5000);
      return;
    }
    show('load-error', false);
    view = answer.body;
    if (view.state === 'DRAW_WON' && !winners) await loadWinners();
    render();
  }

  async function loadWinners() {
    const answer = await D.api('GET', `/api/draws/${drawId}/winners`);
    if (answer.status === 200) winners = answer.body;
  }

  $('enter-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('github-id');
    const githubId = input.value.trim().replace(/^@/, '');
    show('enter-error', false);
    if (!githubId) {
      $('enter-error').textContent = 'Type your GitHub user name first.';
      show('enter-error', true);
      return;
    }
    const button = $('enter-button');
    button.classList.add('is-loading');
    button.disabled = true;
    const answer = await D.api('POST', `/api/draws/${drawId}/entries`, { githubId });
    button.classList.remove('is-loading');
    button.disabled = false;
    if (answer.status === 201) {
      entered = answer.body;
      $('entered-avatar').replaceChildren(D.avatar(entered.image, entered.name, 'is-64x64'));
      $('entered-name').textContent = entered.name;
      $('entered-login').textContent = `@${entered.login}`;
      render();
      void load();
      return;
    }
    const messages = {
      409: 'You have already entered this draw. Good luck!',
      503: 'GitHub cannot be reached right now. Please try again in a moment.',
    };
    $('enter-error').textContent = messages[answer.status] || D.errorMessage(answer);
    show('enter-error', true);
    if (answer.status === 403) void load();
  });

  const watcher = D.watchDraw(
    drawId,
    {
      connected: () => void load(),
      'draw:started': (payload) => {
        view = payload;
        winners = null;
        entered = null;
        render();
      },
      'draw:entrants': (payload) => {
        if (!view) return void load();
        view.entrants = payload.entrants;
        if (view.state === 'DRAW_OPEN_NO_ENTRANTS') view.state = 'DRAW_OPEN_WITH_ENTRANTS';
        render();
      },
      'draw:closed': (payload) => {
        if (view && view.state === 'DRAW_WON') return;
        view = payload;
        render();
      },
      'draw:winners': (payload) => {
        winners = payload.winners;
        void load();
      },
    },
    $('live'),
  );

  window.setInterval(() => view && renderClosing(), 1000);
  // Without the live connection (realtime app unreachable), the page still follows the draw.
  window.setInterval(() => watcher.connected || void load(), 10_000);
  void load();
})();
