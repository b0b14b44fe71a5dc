/* global document, window, URLSearchParams */
// The admin page: signs in through the auth app (POST /auth/login, same
// origin through the gateway; the session cookie does the rest), then starts,
// closes and draws any number of draws, following each one live.
(function () {
  'use strict';
  const D = window.LatticeDraw;
  const $ = (id) => document.getElementById(id);
  let drawId = D.drawIdFromLocation();
  let view = null;
  let watcher = null;

  const show = (id, visible) => ($(id).hidden = !visible);

  function fail(box, answer, fallback) {
    $(box).textContent = typeof answer === 'string' ? answer : D.errorMessage(answer, fallback);
    show(box, true);
  }

  // Signing in and out.

  async function whoAmI() {
    const answer = await D.api('GET', '/auth/me');
    if (answer.status === 200) return signedIn(answer.body.user);
    show('console', false);
    show('signin-box', true);
    if (answer.status !== 401) fail('signin-error', answer, 'Sign-in is unavailable right now.');
  }

  function signedIn(user) {
    if (!user.roles || !user.roles.includes('admin')) {
      show('console', false);
      show('signin-box', true);
      fail('signin-error', `${user.login} is not an admin. Sign in with an admin account.`);
      return;
    }
    $('who').textContent = `Signed in as ${user.name || user.login}`;
    show('signin-box', false);
    show('signin-error', false);
    show('console', true);
    $('draw-id').value = drawId;
    void selectDraw(drawId);
  }

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    show('signin-error', false);
    const button = $('signin-button');
    button.classList.add('is-loading');
    const answer = await D.api('POST', '/auth/login', {
      login: $('login').value.trim(),
      password: $('password').value,
    });
    button.classList.remove('is-loading');
    if (answer.status === 200) {
      $('password').value = '';
      signedIn(answer.body.user);
      return;
    }
    fail(
      'signin-error',
      answer.status === 401 ? 'Wrong login or password.' : D.errorMessage(answer),
    );
  });

  $('signout-button').addEventListener('click', async () => {
    await D.api('POST', '/auth/logout');
    if (watcher) watcher.close();
    watcher = null;
    $('who').textContent = 'Sign in with an admin account';
    show('console', false);
    show('signin-box', true);
  });

  // Which draw.

  async function selectDraw(id) {
    drawId = id;
    const url = `/draw?id=${encodeURIComponent(id)}`;
    $('entry-link').href = url;
    $('entry-link').textContent = url;
    const params = new URLSearchParams(window.location.search);
    params.set('id', id);
    window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
    if (watcher) watcher.close();
    watcher = D.watchDraw(
      id,
      {
        connected: () => void load(),
        'draw:started': (payload) => setView(payload),
        'draw:entrants': (payload) => {
          if (!view) return void load();
          view.entrants = payload.entrants;
          if (view.state === 'DRAW_OPEN_NO_ENTRANTS') view.state = 'DRAW_OPEN_WITH_ENTRANTS';
          render();
        },
        'draw:closed': () => void load(),
        'draw:winners': () => void load(),
      },
      $('live'),
    );
    await load();
  }

  $('pick-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('draw-id').value.trim().toLowerCase();
    if (!D.DRAW_ID.test(id)) {
      fail('action-error', 'A draw id is 1 to 64 characters of a-z 0-9 _ -.');
      return;
    }
    show('action-error', false);
    void selectDraw(id);
  });

  // The draw's state.

  async function load() {
    const id = drawId;
    const answer = await D.api('GET', `/api/draws/${id}`);
    if (id !== drawId) return;
    if (answer.status !== 200) return fail('action-error', answer, 'The draw could not be loaded.');
    await setView(answer.body);
  }

  async function setView(next) {
    view = next;
    if (view.state === 'DRAW_WON') {
      const answer = await D.api('GET', `/api/draws/${view.id}/winners`);
      if (answer.status === 200) D.renderWinners($('winners'), answer.body);
    }
    render();
  }

  function render() {
    const open = D.isOpen(view.state);
    const exists = view.state !== 'NO_DRAW';
    const won = view.state === 'DRAW_WON';
    D.setState($('state'), view.state);
    $('state').dataset.state = view.state;
    $('entrants').textContent = String(view.entrants);
    $('prizes-heading').textContent = won ? 'Prizes not won' : 'Prizes';
    D.renderPrizes($('prizes'), view.prizes, exists ? 'None left.' : 'No draw with this id yet.');
    renderClosing();
    $('close-button').disabled = !open;
    $('winners-button').disabled = !exists || won;
    show('winners-box', won);
    show('replace-field', exists);
    $('start-title').textContent = exists ? `Start draw ${view.id} again` : `Start draw ${view.id}`;
  }

  function renderClosing() {
    const tag = $('closes');
    if (!view || !view.closesAt) return show('closes', false);
    const open = D.isOpen(view.state);
    const left = open ? D.timeLeft(view.closesAt) : null;
    tag.textContent = open ? `Closes in ${left || '…'}` : `Closed ${D.formatTime(view.closesAt)}`;
    show('closes', true);
    if (open && !left) window.setTimeout(() => void load(), 1000);
  }

  // Actions.

  async function act(button, method, path, body) {
    show('action-error', false);
    $(button).classList.add('is-loading');
    const answer = await D.api(method, path, body);
    $(button).classList.remove('is-loading');
    if (answer.status === 401) {
      void whoAmI();
      return null;
    }
    return answer;
  }

  $('close-button').addEventListener('click', async () => {
    const answer = await act('close-button', 'POST', `/api/draws/${drawId}/close`);
    if (!answer) return;
    if (answer.status !== 204) return fail('action-error', answer);
    await load();
  });

  $('winners-button').addEventListener('click', async () => {
    const answer = await act('winners-button', 'POST', `/api/draws/${drawId}/winners`);
    if (!answer) return;
    if (answer.status !== 200) return fail('action-error', answer);
    await load();
  });

  $('start-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    show('start-error', false);
    const prizes = $('prizes-input')
      .value.split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    if (!prizes.length) return fail('start-error', 'List at least one prize.');
    if (new Set(prizes).size !== prizes.length) {
      return fail('start-error', 'Each prize can be listed once only.');
    }
    const body = { id: drawId, prizes };
    const amount = $('duration').value.trim();
    if (amount) {
      const seconds = Number(amount) * Number($('duration-unit').value);
      if (!Number.isInteger(seconds) || seconds < 1) {
        return fail('start-error', 'The duration must be a whole, positive number.');
      }
      body.durationSeconds = seconds;
    }
    if (view && view.state !== 'NO_DRAW' && !$('replace').checked) {
      return fail('start-error', 'Tick the box to replace the current draw first.');
    }
    const answer = await act('start-button', 'POST', '/api/draws', body);
    if (!answer) return;
    if (answer.status !== 201) return fail('start-error', answer);
    $('replace').checked = false;
    await setView(answer.body);
  });

  window.setInterval(() => view && D.isOpen(view.state) && renderClosing(), 1000);
  // Without the live connection (realtime app unreachable), the page still follows the draw.
  window.setInterval(() => watcher && !watcher.connected && void load(), 10_000);
  void whoAmI();
})();
