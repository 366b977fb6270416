/* The file page's keyboard shortcuts: a key pressed outside a field acts on the element
   whose data-raccourci names it (a link is followed, a <summary> opens its <details>,
   anything else takes the focus); « Raccourcis clavier » on the page lists them.
   Escape leaves a field; Ctrl+Enter (or Cmd+Enter) sends the form being typed in.
   After an action, « Dossier suivant » takes the focus, so Enter goes on to it.
   « / » (the search box) is the header's own (search.js). Without this script the page
   works the same, with the mouse or Tab. */
(function () {
  "use strict";

  function typing(element) {
    if (!element) { return false; }
    if (element.isContentEditable) { return true; }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    return ["checkbox", "radio", "button", "submit", "reset", "file", "hidden"]
      .indexOf(element.type) < 0;
  }

  function openAround(element) {
    for (var up = element.parentElement; up; up = up.parentElement) {
      if (up.tagName === "DETAILS") { up.open = true; }
    }
  }

  function act(target) {
    if (target.tagName === "A") {
      target.click();
      return;
    }
    if (target.tagName === "SUMMARY") {
      target.parentElement.open = true;
    }
    openAround(target);
    target.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) { return; }
    var here = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && here.form) {
      event.preventDefault();
      here.form.requestSubmit();
      return;
    }
    if (event.key === "Escape" && typing(here)) {
      here.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(here)) { return; }
    var targets = document.querySelectorAll("[data-raccourci]");
    for (var i = 0; i < targets.length; i++) {
      if (targets[i].getAttribute("data-raccourci") === event.key) {
        event.preventDefault();
        act(targets[i]);
        return;
      }
    }
  });

  // A link to an entry (« corrigé par n° 44 ») opens the month it sits in.
  function showTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var entry = id && document.getElementById(id);
    if (entry) { openAround(entry); entry.scrollIntoView(); }
  }
  window.addEventListener("hashchange", showTarget);
  showTarget();

  var next = document.getElementById("suivant-apres");
  if (next && !window.location.hash) { next.focus(); }
}());
