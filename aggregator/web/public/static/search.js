// Enhancements of the search page; the page works without them. Nothing here reads or writes
// anything but the form, the results and the saved interests ("interets" in localStorage).
(function () {
  "use strict";
  var form = document.getElementById("recherche");
  if (!form) return;
  var zone = document.getElementById("zone-resultats");
  var KEY = "interets";

  function savedInterests() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }

  // Interests move the cards of those themes up, in the page as received: the request is the
  // same with or without them.
  function reorder() {
    var list = document.getElementById("cartes");
    if (!list) return;
    var liked = savedInterests();
    if (!liked.length) return;  // the order received
    var cards = Array.prototype.slice.call(list.children);
    cards.sort(function (a, b) {
      var la = liked.indexOf(a.dataset.group) >= 0 ? 0 : 1;
      var lb = liked.indexOf(b.dataset.group) >= 0 ? 0 : 1;
      return la - lb || a.dataset.rank - b.dataset.rank;
    });
    cards.forEach(function (card) { list.appendChild(card); });
  }

  var box = document.getElementById("interets");
  if (box) {
    box.hidden = false;
    var liked = savedInterests();
    box.querySelectorAll("input[data-interest]").forEach(function (input) {
      input.checked = liked.indexOf(input.dataset.interest) >= 0;
    });
    document.getElementById("garder").addEventListener("click", function () {
      var chosen = [];
      box.querySelectorAll("input[data-interest]:checked").forEach(function (input) {
        chosen.push(input.dataset.interest);
      });
      if (chosen.length) localStorage.setItem(KEY, JSON.stringify(chosen));
      else localStorage.removeItem(KEY);
      document.getElementById("interets-etat").textContent = chosen.length
        ? "Enregistré dans ce navigateur." : "Centres d'intérêt effacés.";
      reorder();
    });
  }
  reorder();

  // The heading, the title and a status line follow the results that came in, so that a
  // screen reader hears the new count and the tab says what is shown.
  var announced = document.getElementById("annonce");
  function retitle() {
    var head = document.getElementById("entete");
    if (!head) return;
    document.title = head.dataset.titre;
    document.getElementById("titre").textContent = head.dataset.heading;
    var count = document.getElementById("compte");
    if (announced) announced.textContent = count ? count.textContent.trim() : "";
  }

  // Results as you type: the same URL the form would load, its results part only.
  var timer = null;
  var current = null;
  function url() {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (name) {
      if (!params.get(name)) params.delete(name);
    });
    return "/?" + params.toString();
  }
  function refresh() {
    var target = url();
    if (target === "/?" ) return;
    if (current) current.abort();
    current = new AbortController();
    fetch(target, { headers: { "X-Partial": "results" }, signal: current.signal, credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
      .then(function (html) {
        // The first screen of results is laid out and painted on its own; the rest of the
        // page follows in the next frame, so a key shows its results sooner.
        zone.classList.add("suite-apres");
        zone.innerHTML = html;
        retitle();
        reorder();
        requestAnimationFrame(function () {
          requestAnimationFrame(function () { zone.classList.remove("suite-apres"); });
        });
        history.replaceState(null, "", target);
      })
      .catch(function () {});
  }
  // A key after a pause asks at once; keys in a burst wait until 50 ms pass without one.
  var lastKey = 0;
  function later() {
    var now = Date.now();
    var idle = now - lastKey > 300 && !timer;
    lastKey = now;
    clearTimeout(timer);
    if (idle) { refresh(); return; }
    timer = setTimeout(function () { timer = null; refresh(); }, 50);
  }
  document.getElementById("q").addEventListener("input", later);
  form.addEventListener("change", function (event) {
    if (event.target.dataset && event.target.dataset.interest !== undefined) return;
    if (event.target.id === "pres") return;  // a commune is looked up on submit
    later();
  });

  // "Autour de moi": the position is asked only on this click, rounded to about 100 m here.
  var near = document.getElementById("autour");
  if (near && "geolocation" in navigator) {
    near.hidden = false;
    // The chip only opens the explanation beside the real button: nothing is read yet.
    var chip = document.getElementById("vers-autour");
    chip.hidden = false;
    chip.addEventListener("click", function () {
      document.getElementById("filtres").open = true;
      document.getElementById("lieu").scrollIntoView({ block: "start" });
      near.focus();
    });
    near.addEventListener("click", function () {
      var status = document.getElementById("position");
      status.textContent = "Recherche de votre position…";
      navigator.geolocation.getCurrentPosition(function (position) {
        ["lat", "lon"].forEach(function (name) {
          var input = form.querySelector("input[name=" + name + "]");
          if (!input) {
            input = document.createElement("input");
            input.type = "hidden";
            input.name = name;
            form.appendChild(input);
          }
          var value = name === "lat" ? position.coords.latitude : position.coords.longitude;
          input.value = value.toFixed(3);
        });
        document.getElementById("pres").value = "";
        var byDistance = form.querySelector("input[name=tri][value=distance]");
        if (byDistance) byDistance.checked = true;
        status.textContent = "Position utilisée (arrondie à 100 m).";
        form.submit();
      }, function () {
        status.textContent = "Position non disponible : tapez une commune ou un code postal.";
      }, { maximumAge: 600000, timeout: 15000 });
    });
  }
})();
