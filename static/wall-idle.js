// A screen nobody touches: the cursor goes away after IDLE_MS without movement, and against
// burn-in the whole page (header, counters, headings) moves by a few pixels every DRIFT_MS,
// around a small loop, so no static line sits on the same pixels for hours (wall.css).
(function () {
  "use strict";

  var root = document.documentElement;
  var IDLE_MS = 3000;
  var DRIFT_MS = 4 * 60 * 1000;
  var STEP_REM = 0.07; // 1.6 px at 1920×1080, 3.2 px at 3840×2160: the same on the glass
  var LOOP = [
    [0, 0],
    [1, 0],
    [2, 1],
    [2, 2],
    [1, 3],
    [0, 3],
    [-1, 2],
    [-1, 1],
  ];
  var idleTimer = null;
  var step = 0;

  function idle() {
    root.classList.add("cursor-idle");
  }

  function moved() {
    root.classList.remove("cursor-idle");
    clearTimeout(idleTimer);
    idleTimer = setTimeout(idle, IDLE_MS);
  }

  function drift() {
    step = (step + 1) % LOOP.length;
    root.style.setProperty("--drift-x", LOOP[step][0] * STEP_REM + "rem"); // CSSOM: CSP allows it
    root.style.setProperty("--drift-y", LOOP[step][1] * STEP_REM - 0.1 + "rem");
    root.dataset.drift = String(step);
  }

  document.addEventListener("mousemove", moved, { passive: true });
  moved();
  setInterval(drift, DRIFT_MS);
})();
