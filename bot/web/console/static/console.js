// The queue refreshes itself every 10 seconds; a new P0 shows a banner. No libraries.
(function () {
  var box = document.getElementById("queue-rows");
  if (!box) { return; }
  var known = (box.dataset.p0 || "").split(",").filter(Boolean);
  function refresh() {
    fetch(box.dataset.poll, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (r.redirected || !r.ok) { throw new Error("signed out"); } return r.text(); })
      .then(function (html) {
        box.innerHTML = html;
        var table = box.querySelector("table");
        var now = ((table && table.dataset.p0) || "").split(",").filter(Boolean);
        var fresh = now.filter(function (id) { return known.indexOf(id) < 0; });
        if (fresh.length) { document.getElementById("p0-banner").hidden = false; }
        known = now;
      })
      .catch(function () { window.location.reload(); });
  }
  setInterval(refresh, 10000);
})();
