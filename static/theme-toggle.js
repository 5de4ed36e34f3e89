// The theme button: dark/light, remembered in localStorage (before-paint.js applies it early).
(function () {
  "use strict";
  var THEME_KEY = "ticket-dash-theme";
  var button = document.getElementById("theme-toggle");
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  if (!button) return;

  function currentTheme() {
    var chosen = document.documentElement.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return darkQuery && !darkQuery.matches ? "light" : "dark";
  }

  function show() {
    var theme = currentTheme();
    var other = theme === "dark" ? "light" : "dark";
    button.textContent = theme === "dark" ? "☾ Dark" : "☀ Light";
    button.setAttribute("aria-label", "Theme: " + theme + ". Switch to " + other + ".");
  }

  button.addEventListener("click", function () {
    var next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try {
      window.localStorage.setItem(THEME_KEY, next);
    } catch (e) {
      // Not remembered when storage is disabled; the toggle still works for this page.
    }
    show();
  });
  if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener("change", show);
  show();
})();
