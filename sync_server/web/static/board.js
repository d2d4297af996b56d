// The board refreshes itself: every 15 s, and as the search box is typed in, it asks the
// server for the columns again and swaps them in. No framework, no state kept here.
(function () {
  "use strict";
  var box = document.getElementById("board-cards");
  var search = document.getElementById("board-search");
  var updated = document.getElementById("board-updated");
  if (!box) { return; }
  var timer = null;

  function refresh() {
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
      .catch(function () { /* offline for a moment: try again on the next tick */ });
  }

  setInterval(refresh, 15000);
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
