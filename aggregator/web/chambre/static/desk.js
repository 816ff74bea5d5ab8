// The desk's keyboard: every key presses a button or follows a link the page already has.
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") {
      var help = document.getElementById("aide");
      if (help) { help.open = !help.open; event.preventDefault(); }
      return;
    }
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var el = document.querySelector('[data-key="' + key + '"], [data-alt-key="' + key + '"]');
    if (!el) return;
    event.preventDefault();
    if (el.tagName === "BUTTON") {
      if (el.form && el.form.requestSubmit) el.form.requestSubmit(el); else el.click();
    } else {
      window.location.href = el.getAttribute("href");
    }
  });
})();
