// Applies the remembered theme before the first paint (loaded in <head>, not deferred).
// Without a remembered choice the page follows prefers-color-scheme (see board.css).
(function () {
  "use strict";
  try {
    var theme = window.localStorage.getItem("ticket-dash-theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage can be disabled; the OS preference applies.
  }
})();
