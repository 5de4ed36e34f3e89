// ?sound=1: a short tone for a new Urgent ticket (two rising notes) or a new breach (two falling).
// Browsers start audio only after a gesture. A TV in kiosk mode runs Chromium with
// --autoplay-policy=no-user-gesture-required (README); anywhere else the status line says
// "sound blocked" until someone clicks or presses a key once. At most one tone per GAP_MS.
(function () {
  "use strict";

  var W = (window.TicketDashWall = window.TicketDashWall || {});
  var body = document.body;
  var stateEl = document.getElementById("sound-state");
  var GAP_MS = 8000;
  var played = 0;
  var last = -Infinity;

  if (body.dataset.sound !== "1") {
    W.sound = { play: function () {} };
    return;
  }

  var Ctx = window.AudioContext || window.webkitAudioContext;
  var ctx = null;
  try {
    ctx = Ctx ? new Ctx() : null;
  } catch (e) {
    ctx = null;
  }

  function running() {
    return !!ctx && ctx.state === "running";
  }

  function show() {
    var text = running() ? "🔔 sound on" : ctx ? "🔇 sound blocked: click once" : "🔇 no sound here";
    body.dataset.soundState = running() ? "on" : ctx ? "blocked" : "none";
    if (!stateEl) return;
    stateEl.hidden = false;
    stateEl.classList.toggle("is-blocked", !running());
    if (stateEl.textContent !== text) stateEl.textContent = text;
  }

  function unlock() {
    if (ctx && !running()) ctx.resume().then(show, show);
  }

  function note(freq, at, seconds) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + seconds + 0.05);
  }

  function play(kind) {
    if (!running() || Date.now() - last < GAP_MS) return;
    last = Date.now();
    var t = ctx.currentTime + 0.02;
    var notes = kind === "breach" ? [784, 523] : [523, 784];
    note(notes[0], t, 0.25);
    note(notes[1], t + 0.3, 0.35);
    played++;
    body.dataset.soundsPlayed = String(played);
  }

  if (ctx) {
    ctx.addEventListener("statechange", show);
    unlock();
  }
  ["pointerdown", "keydown"].forEach(function (type) {
    window.addEventListener(type, unlock, { passive: true });
  });
  show();
  W.sound = { play: play };
})();
