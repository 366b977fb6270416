/* Live coordination: redraws, every second, the marks of the debtors on the page (a
   colleague's « J'appelle », today's contacts) from /direct/debiteurs. The page works
   without it, as of its load. Same-origin file: the site's content policy forbids inline
   scripts. */
(function () {
  "use strict";
  var source = document.querySelector("[data-live-url]");
  if (!source || !window.fetch) { return; }
  var PERIOD = 1000;
  var boxes = document.querySelectorAll("[data-live-account]");
  var accounts = [];
  boxes.forEach(function (box) {
    var account = box.getAttribute("data-live-account");
    if (accounts.indexOf(account) < 0) { accounts.push(account); }
  });
  if (!accounts.length) { return; }
  var url = source.getAttribute("data-live-url") + "?comptes=" +
    accounts.map(encodeURIComponent).join(",");

  function draw(box, marks) {
    var mine = box.getAttribute("data-live-mine") || "badge text-bg-success";
    var other = box.getAttribute("data-live-other") || "badge text-bg-warning";
    var said = JSON.stringify(marks);
    if (box.getAttribute("data-live-said") === said) { return; }
    box.setAttribute("data-live-said", said);
    while (box.firstChild) { box.removeChild(box.firstChild); }
    marks.forEach(function (mark) {
      var span = document.createElement("span");
      span.className = mark.moi ? mine : other;
      span.setAttribute("data-genre", mark.genre);
      span.textContent = mark.texte;
      box.appendChild(span);
      box.appendChild(document.createTextNode(" "));
    });
  }

  function ask() {
    if (document.hidden) { window.setTimeout(ask, PERIOD); return; }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"},
                cache: "no-store"})
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(function (body) {
        boxes.forEach(function (box) {
          var marks = body.debiteurs[box.getAttribute("data-live-account")];
          if (marks) { draw(box, marks); }
        });
        window.setTimeout(ask, PERIOD);
      })
      .catch(function () { window.setTimeout(ask, PERIOD * 5); });
  }
  window.setTimeout(ask, PERIOD);
}());
