// The annotate page's keyboard, timer, ranking tray and drag and drop.
// The form works without this file (radios, selects, plain posts); this makes it fast.
(function () {
  "use strict";

  let startedAt = 0;
  let timerId = null;
  let rankingOrder = []; // response numbers (1-based, display order), best first
  let activeRating = 0; // index of the highlighted card in rating mode

  const judgementForm = () => document.getElementById("judgement");
  const cards = () => Array.from(document.querySelectorAll("#judgement .response"));
  const cardByNumber = (number) => document.querySelector(`#judgement .response[data-number="${number}"]`);

  function elapsedSeconds() {
    return (performance.now() - startedAt) / 1000;
  }

  function showTime() {
    const timer = document.getElementById("timer");
    if (!timer) return;
    const seconds = Math.floor(elapsedSeconds());
    timer.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function setUpItem() {
    const form = judgementForm();
    clearInterval(timerId);
    if (!form) return;
    // A refused submission comes back with the time already spent, so the clock carries on.
    startedAt = performance.now() - (parseFloat(form.elements.seconds_spent.value) || 0) * 1000;
    showTime();
    timerId = setInterval(showTime, 1000);
    if (form.dataset.mode === "ranking") {
      rankingOrder = orderFromSelects();
      drawTray();
    } else if (form.dataset.mode === "rating") {
      const firstUnrated = cards().findIndex((card) => !card.querySelector("input:checked"));
      highlightRating(firstUnrated === -1 ? 0 : firstUnrated);
    }
  }

  // ---- ranking -------------------------------------------------------------------------

  function orderFromSelects() {
    return cards()
      .map((card) => ({ number: Number(card.dataset.number), rank: Number(card.querySelector("select").value) }))
      .filter((entry) => entry.rank > 0)
      .sort((a, b) => a.rank - b.rank)
      .map((entry) => entry.number);
  }

  function applyRanking() {
    for (const card of cards()) {
      const place = rankingOrder.indexOf(Number(card.dataset.number));
      card.querySelector("select").value = place === -1 ? "" : String(place + 1);
    }
    drawTray();
  }

  function drawTray() {
    const tray = document.getElementById("ranking-tray");
    if (!tray) return;
    const unranked = cards().map((card) => Number(card.dataset.number)).filter((n) => !rankingOrder.includes(n));
    tray.replaceChildren(
      ...rankingOrder.map((number) => trayEntry(number, true)),
      ...unranked.map((number) => trayEntry(number, false)),
    );
  }

  function trayEntry(number, ranked) {
    const entry = document.createElement("li");
    entry.draggable = true;
    entry.dataset.number = String(number);
    entry.className = ranked ? "ranked" : "unranked";
    entry.textContent = `Response ${number}`;
    if (!ranked) entry.title = "Not ranked yet";
    return entry;
  }

  function rankNext(number) {
    if (!cardByNumber(number) || rankingOrder.includes(number)) return;
    rankingOrder.push(number);
    applyRanking();
  }

  let dragged = null;

  document.addEventListener("dragstart", (event) => {
    const entry = event.target.closest && event.target.closest("#ranking-tray li");
    if (!entry) return;
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.number);
  });

  document.addEventListener("dragover", (event) => {
    if (dragged && event.target.closest && event.target.closest("#ranking-tray")) event.preventDefault();
  });

  document.addEventListener("drop", (event) => {
    const tray = event.target.closest && event.target.closest("#ranking-tray");
    if (!dragged || !tray) return;
    event.preventDefault();
    const target = event.target.closest("li");
    if (target && target !== dragged) {
      const box = target.getBoundingClientRect();
      tray.insertBefore(dragged, event.clientY > box.top + box.height / 2 ? target.nextSibling : target);
    }
    // Dragging orders the whole list: everything in the tray is ranked as it now stands.
    rankingOrder = Array.from(tray.children).map((entry) => Number(entry.dataset.number));
    dragged = null;
    applyRanking();
  });

  document.addEventListener("dragend", () => {
    dragged = null;
  });

  // ---- rating --------------------------------------------------------------------------

  function highlightRating(index) {
    const all = cards();
    activeRating = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((card, i) => card.classList.toggle("active", i === activeRating));
  }

  function rateActive(value) {
    const card = cards()[activeRating];
    const input = card && card.querySelector(`.likert input[value="${value}"]`);
    if (!input) return;
    input.checked = true;
    highlightRating(activeRating + 1);
  }

  // ---- pairwise ------------------------------------------------------------------------

  const STRENGTH_KEYS = { s: "1", c: "2", m: "3" };

  function choose(value) {
    const input = document.querySelector(`#judgement input[name="preferred"][value="${value}"]`);
    if (input) input.checked = true;
    markChosen();
  }

  // A tie has no strength, so choosing one clears it.
  function clearStrengthOnTie() {
    if (!document.querySelector('#judgement input[name="preferred"][value="tie"]:checked')) return;
    for (const input of document.querySelectorAll('#judgement input[name="strength"]')) input.checked = false;
  }

  function toggleStrength(value) {
    const input = document.querySelector(`#judgement input[name="strength"][value="${value}"]`);
    if (input) input.checked = !input.checked;
  }

  function markChosen() {
    clearStrengthOnTie();
    const chosen = document.querySelector('#judgement input[name="preferred"]:checked');
    for (const card of cards()) card.classList.toggle("chosen", !!chosen && chosen.value === card.dataset.position);
  }

  // ---- actions -------------------------------------------------------------------------

  function submitJudgement() {
    const form = judgementForm();
    if (form && !form.classList.contains("htmx-request")) form.requestSubmit();
  }

  function toggleHelp() {
    const help = document.getElementById("shortcuts");
    if (help.open) help.close();
    else help.showModal();
  }

  function openSkip() {
    const skip = document.getElementById("skip");
    if (!skip) return;
    skip.open = true;
    skip.querySelector("select").focus();
  }

  // What a key does in this task mode, or null when it means nothing here.
  function modeAction(mode, key) {
    if (mode === "pairwise") {
      if (key === "1" || key === "2") return () => choose(cards()[Number(key) - 1].dataset.position);
      if (key === "0") return () => choose("tie");
      if (key in STRENGTH_KEYS) return () => toggleStrength(STRENGTH_KEYS[key]);
    } else if (mode === "ranking") {
      if (/^[1-9]$/.test(key)) return () => rankNext(Number(key));
      if (key === "Backspace") return () => { rankingOrder.pop(); applyRanking(); };
    } else if (mode === "rating") {
      if (/^[0-9]$/.test(key)) return () => rateActive(key);
      if (key === "ArrowDown") return () => highlightRating(activeRating + 1);
      if (key === "ArrowUp" || key === "Backspace") return () => highlightRating(activeRating - 1);
    }
    return null;
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.matches("textarea, select, input[type=text]");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.closest("#judgement")) {
      event.preventDefault();
      return submitJudgement();
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing || event.isComposing) return;
    if (document.getElementById("shortcuts")?.open && event.key !== "?") return;
    const form = judgementForm();
    if (event.key === "?") return toggleHelp();
    if (event.key === "g") {
      const guidelines = document.getElementById("guidelines");
      if (guidelines) guidelines.open = !guidelines.open;
      return;
    }
    if (!form) return;
    if (event.key === "Enter") {
      if (target.matches("button, a, summary")) return; // let focused controls do their own thing
      event.preventDefault();
      return submitJudgement();
    }
    if (event.key === "r") {
      event.preventDefault();
      return form.elements.rationale.focus();
    }
    if (event.key === "x") {
      event.preventDefault();
      return openSkip();
    }
    if (event.key === "u") return document.getElementById("undo").requestSubmit();
    const action = modeAction(form.dataset.mode, event.key);
    if (action) {
      event.preventDefault();
      action();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest('[data-action="help"]')) toggleHelp();
  });

  // Clicks and the plain form controls keep the keyboard's picture up to date.
  document.addEventListener("change", (event) => {
    const control = event.target;
    if (control.matches('#judgement input[name="preferred"]')) markChosen();
    if (control.matches("#judgement .rank-field select")) {
      rankingOrder = orderFromSelects();
      applyRanking();
    }
    if (control.matches("#judgement .likert input")) highlightRating(cards().indexOf(control.closest(".response")));
  });

  // Capture phase: runs before htmx reads the form, so the time sent is the time spent.
  document.addEventListener(
    "submit",
    (event) => {
      if (event.target.id === "judgement") event.target.elements.seconds_spent.value = elapsedSeconds().toFixed(1);
    },
    true,
  );

  document.addEventListener("htmx:beforeSwap", (event) => {
    // A session that ran out answers with the login page: go there rather than nest it.
    const workspace = document.getElementById("workspace");
    const responseUrl = new URL(event.detail.xhr.responseURL || location.href);
    if (workspace && responseUrl.pathname === workspace.dataset.loginUrl) {
      event.detail.shouldSwap = false;
      location.assign(responseUrl.pathname + "?next=" + encodeURIComponent(location.pathname));
    }
  });

  function showTrouble() {
    const notice = document.getElementById("notice");
    if (notice) {
      notice.innerHTML = '<p class="notice error" role="alert"></p>';
      notice.firstChild.textContent = "That did not go through. Nothing on this page was lost: press Enter to try again.";
    }
  }
  document.addEventListener("htmx:responseError", showTrouble);
  document.addEventListener("htmx:sendError", showTrouble);

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "workspace") setUpItem();
  });

  setUpItem();
})();
