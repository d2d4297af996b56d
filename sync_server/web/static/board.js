// The board keeps itself up to date. Live: the server's event stream (data-events) says
// "visits changed" and the page asks for its columns again at once. Without the stream
// (an old browser, a proxy that cuts it, a server with too many screens open) it asks
// every 15 s, as it always did; with it, once a minute (the waiting minutes move on).
// As the search box is typed in, it asks too. No framework, no state kept here.
(function () {
  "use strict";
  var box = document.getElementById("board-cards");
  var search = document.getElementById("board-search");
  var updated = document.getElementById("board-updated");
  var liveTag = document.getElementById("board-live");
  if (!box) { return; }
  var timer = null;
  var source = null;
  var live = false;
  var loading = false;
  var again = false;
  var lastRefresh = Date.now();
  var POLL_MS = 15000;
  var LIVE_POLL_MS = 60000;
  var REOPEN_MS = 30000;

  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    lastRefresh = Date.now();
    var q = search ? search.value.trim() : "";
    var url = box.getAttribute("data-src") + (q ? "?q=" + encodeURIComponent(q) : "");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null || html === undefined) { return; }
        box.innerHTML = html;
        var stamp = document.getElementById("cards-stamp");
        if (stamp && updated) {
          updated.textContent = updated.getAttribute("data-label") + " " + stamp.getAttribute("data-time");
        }
      })
      .catch(function () { /* offline for a moment: try again on the next tick */ })
      .then(function () {
        loading = false;
        if (again) { again = false; refresh(); }
      });
  }

  function showLive(on) {
    live = on;
    box.setAttribute("data-live", on ? "1" : "0");
    if (liveTag) {
      liveTag.textContent = liveTag.getAttribute(on ? "data-on" : "data-off");
      liveTag.className = on ? "live on" : "live off";
    }
  }

  function listen() {
    var events = box.getAttribute("data-events");
    if (!events || !window.EventSource) { return; }
    source = new EventSource(events, { withCredentials: true });
    source.addEventListener("open", function () { showLive(true); });
    // "hello": the stream (re)opened, changes may have been missed meanwhile.
    ["hello", "visit", "resync"].forEach(function (name) {
      source.addEventListener(name, function () { refresh(); });
    });
    source.addEventListener("error", function () {
      showLive(false);
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many screens, signed out): poll, and try the stream again later.
        source = null;
        setTimeout(listen, REOPEN_MS + Math.random() * REOPEN_MS);
      } // else the browser reconnects by itself
    });
  }

  setInterval(function () {
    if (Date.now() - lastRefresh >= (live ? LIVE_POLL_MS : POLL_MS) - 500) { refresh(); }
  }, POLL_MS);
  showLive(false);
  listen();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
  if (search) {
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = search.value.trim();
        history.replaceState(null, "", q ? "?q=" + encodeURIComponent(q) : window.location.pathname);
        refresh();
      }, 300);
    });
  }
})();
