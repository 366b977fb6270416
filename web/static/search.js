/* The header's search box, live: after a short pause in typing, the matches appear in a
   list under the box (arrows to move, Enter to open, Escape to close); « / » anywhere
   else puts the cursor in the box. Without this script the box is a plain form. */
(function () {
  "use strict";
  var form = document.getElementById("recherche");
  if (!form) { return; }
  var input = form.querySelector("input[name=q]");
  var box = document.getElementById("recherche-suggestions");
  var url = form.getAttribute("data-suggestions");
  var PAUSE_MS = 200;
  var timer = null;
  var asked = 0;
  var active = -1;

  function options() {
    return Array.prototype.slice.call(box.querySelectorAll("[role=option]"));
  }

  function close() {
    box.hidden = true;
    box.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(html) {
    box.innerHTML = html;  // the server's own fragment, escaped when rendered
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function ask() {
    var typed = input.value.trim();
    if (typed.length < 2) { close(); return; }
    var mine = ++asked;
    fetch(url + "?q=" + encodeURIComponent(typed),
          {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (answer) {
        if (!answer.ok || answer.redirected) { throw new Error("no results"); }
        return answer.text();
      })
      .then(function (html) {
        if (mine === asked && input.value.trim() === typed) { show(html); }
      })
      .catch(function () { if (mine === asked) { close(); } });
  }

  function move(step) {
    var all = options();
    if (!all.length) { return; }
    if (active >= 0 && all[active]) {
      all[active].classList.remove("active");
      all[active].setAttribute("aria-selected", "false");
    }
    active = (active + step + all.length) % all.length;
    var chosen = all[active];
    chosen.classList.add("active");
    chosen.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({block: "nearest"});
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, PAUSE_MS);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (box.hidden) { ask(); } else { move(1); }
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Escape") {
      close();
    } else if (event.key === "Enter" && active >= 0 && options()[active]) {
      event.preventDefault();
      window.location.assign(options()[active].href);
    }
  });

  function typing(target) {
    var name = target && target.tagName;
    return name === "INPUT" || name === "TEXTAREA" || name === "SELECT" ||
      (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
        !typing(event.target)) {
      event.preventDefault();
      var menu = form.closest("details");  // the header's menu, folded on a phone
      if (menu && !menu.open) { menu.open = true; }
      input.focus();
      input.select();
    }
  });

  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) { close(); }
  });
}());
