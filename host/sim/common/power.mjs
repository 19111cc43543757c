// The modem's power, driven only by the board's pins: the A76xx's timings by default; the SIM800
// simulator wraps it with its own (../sim800/power.mjs).
// A7670 hardware manual §3.2 via modem-facts.md §A.2:
//   PWRKEY is active low at the modem (pulled up inside). Ton (power on) typ. 50 ms; Toff (power
//   off) >= 2.5 s, then the shutdown takes ~2 s; wait >= 2 s (Toff-on) after that before the next
//   power on. RESET low pulse 2..2.5 s restarts the module.
//   The board side: GPIO level -> modem PWRKEY level is inverted when board.pwrkey.inverted
//   (transistor), RESET is asserted at board.reset.activeLevel, POWER_ON (board.powerOn) HIGH
//   feeds the rail; no POWER_ON pin means always fed.
// Decisions [inferred], documented here because the manual gives typical values only:
//   - valid ON pulse: PWRKEY asserted for >= tonMs (default 50 ms) while the rail is up and the
//     modem has been off for >= toffOnMs; it powers on as soon as tonMs has passed (holding it
//     longer is fine, as designs that tie PWRKEY to GND rely on), so the window is [50 ms, inf).
//   - an assertion that began while off never powers the modem off again, however long; only an
//     assertion that *starts* while on and lasts >= toffMs (2500) shuts it down.
//   - RESET asserted >= resetMs (2000) while on: the modem stops at that moment and boots again
//     when RESET is released. RESET while off is ignored (the "RESET may power on at the very
//     first power-up" case of the manual is not simulated).
//   - POWER_ON low: instant off (counted in stats.powerCuts when it happens while on).
//   - setSupply(false) (the modem's own supply gone: battery pulled, brown-out; faults) is the same
//     instant off whatever the pins say; setSupply(true) gives the rail back and, as at any
//     power-up, the modem stays off until a PWRKEY assertion (one already held counts from then).

export function createPower({ clock, device, board, timing = {}, onState, keyHonoured = () => true }) {
  const t = { tonMs: 50, toffMs: 2500, shutdownMs: 2000, toffOnMs: 2000, resetMs: 2000, ...timing };
  const pins = device.pins;
  const pk = board.pwrkey;
  const rst = board.reset;
  const info = {
    state: 'off', // off | booting | on | shutdown | reset
    pulses: [], // { pin: 'PWRKEY'|'RESET', startMs, lengthMs, effect }
    offSince: -Infinity,
    powerCuts: 0,
    supplied: true,
    history: [], // { t, state } every transition, read-only for observers (host/testing/energy-meter.mjs)
  };
  let pkStart = null; // time the current PWRKEY assertion began
  let pkStartedWhileOn = false;
  let pkTimer = null;
  let pkEffect = 'none';
  let rstStart = null;
  let rstTimer = null;
  let rstEffect = 'none';

  const rail = () => info.supplied && (board.powerOn == null ? true : pins.level(board.powerOn) === 1);
  const pkAsserted = () => {
    const gpio = pins.level(pk.pin);
    const modemPin = pk.inverted ? 1 - gpio : gpio;
    return modemPin === 0;
  };
  const rstAsserted = () => (rst ? pins.level(rst.pin) === rst.activeLevel : false);

  function set(state, why) {
    const prev = info.state;
    info.state = state;
    info.history.push({ t: clock.now(), state });
    if (state === 'off') info.offSince = clock.now();
    onState(state, prev, why);
  }

  function clearT(x) {
    if (x != null) clock.clearTimeout(x);
    return null;
  }

  function pkEdge(asserted) {
    const now = clock.now();
    if (asserted) {
      pkStart = now;
      pkEffect = 'none';
      pkTimer = clearT(pkTimer);
      if (!rail()) return;
      if (info.state === 'off') {
        pkStartedWhileOn = false;
        if (now - info.offSince < t.toffOnMs) {
          pkEffect = 'ignored: too soon after power off (Toff-on)';
          return;
        }
        const start = now;
        pkTimer = clock.setTimeout(() => {
          pkTimer = null;
          if (info.state === 'off' && rail() && pkAsserted()) {
            pkEffect = 'power on';
            set('booting', { kind: 'pwrkey', t0: start });
          }
        }, t.tonMs);
      } else if (info.state === 'booting' || info.state === 'on') {
        pkStartedWhileOn = true;
        pkTimer = clock.setTimeout(() => {
          pkTimer = null;
          if ((info.state === 'booting' || info.state === 'on') && pkAsserted()) {
            if (!keyHonoured()) {
              pkEffect = 'ignored: the modem firmware is hung';
              return;
            }
            pkEffect = 'power off';
            set('shutdown', { kind: 'pwrkey' });
            clock.setTimeout(() => {
              if (info.state === 'shutdown') set('off', { kind: 'pwrkey' });
            }, t.shutdownMs);
          }
        }, t.toffMs);
      }
    } else if (pkStart != null) {
      pkTimer = clearT(pkTimer);
      info.pulses.push({ pin: 'PWRKEY', startMs: pkStart, lengthMs: now - pkStart, effect: pkEffect, whileOn: pkStartedWhileOn });
      pkStart = null;
    }
  }

  function rstEdge(asserted) {
    const now = clock.now();
    if (asserted) {
      rstStart = now;
      rstEffect = 'none';
      rstTimer = clearT(rstTimer);
      if (info.state === 'booting' || info.state === 'on') {
        rstTimer = clock.setTimeout(() => {
          rstTimer = null;
          if ((info.state === 'booting' || info.state === 'on') && rstAsserted()) {
            rstEffect = 'reset';
            set('reset', { kind: 'reset' });
          }
        }, t.resetMs);
      }
    } else if (rstStart != null) {
      rstTimer = clearT(rstTimer);
      info.pulses.push({ pin: 'RESET', startMs: rstStart, lengthMs: now - rstStart, effect: rstEffect });
      rstStart = null;
      if (info.state === 'reset' && rail()) set('booting', { kind: 'reset', t0: now });
    }
  }

  function railEdge(up) {
    if (!up) {
      pkTimer = clearT(pkTimer);
      rstTimer = clearT(rstTimer);
      if (info.state !== 'off') {
        if (info.state === 'on' || info.state === 'booting') info.powerCuts++;
        set('off', { kind: 'rail' });
      }
    } else if (pkAsserted()) {
      pkEdge(true); // a key already held when the rail comes up counts from now
    }
  }

  const unsubs = [];
  const watch = (pin, fn) => {
    if (pin == null) return;
    unsubs.push(pins.onChange(pin, fn));
  };
  let lastPk = pkAsserted();
  let lastRst = rstAsserted();
  let lastRail = rail();
  // Pin listeners also report every host pin action (for the idle-gap statistics).
  const listeners = [];
  watch(pk.pin, () => {
    const a = pkAsserted();
    listeners.forEach((f) => f('PWRKEY'));
    if (a !== lastPk) {
      lastPk = a;
      pkEdge(a);
    }
  });
  if (rst) {
    watch(rst.pin, () => {
      const a = rstAsserted();
      listeners.forEach((f) => f('RESET'));
      if (a !== lastRst) {
        lastRst = a;
        rstEdge(a);
      }
    });
  }
  const checkRail = () => {
    const r = rail();
    if (r !== lastRail) {
      lastRail = r;
      railEdge(r);
    }
  };
  if (board.powerOn != null) {
    watch(board.powerOn, () => {
      listeners.forEach((f) => f('POWER_ON'));
      checkRail();
    });
  }

  // a key already held (or a board wired to keep it asserted) when the simulator is attached
  if (lastPk && lastRail) pkEdge(true);

  return {
    info,
    timing: t,
    onHostPin: (fn) => listeners.push(fn),
    /** CPOF / CRESET / boot completion come from the modem itself */
    set,
    rail,
    /** the supply behind the rail (faults): false cuts the modem off at once */
    setSupply(on) {
      info.supplied = !!on;
      checkRail();
    },
    pwrkeyAsserted: pkAsserted,
    dispose: () => unsubs.forEach((u) => u && u()),
  };
}
