// Runs in <head>, before the first paint (not deferred): the remembered theme and the wall layout.
// Without a remembered choice the page follows prefers-color-scheme (see board.css). The `js`
// class turns on the one-screen wall layout (wall.css); without scripts the page scrolls.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  try {
    var theme = window.localStorage.getItem("ticket-dash-theme");
    if (theme === "dark" || theme === "light") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage can be disabled; the OS preference applies.
  }
})();
