// The modem's low-power states, shared by the A76xx and SIM800 simulators: DTR sleep (AT+CSCLK=1)
// and, on the A76xx, LTE PSM (AT+CPSMS). `lowPower` is 'awake' | 'sleep' | 'psm';
// `stats.sleepMs` / `stats.psmMs` count the time spent in each (for the energy model).
//
// DTR sleep, A76xx [A76-SLEEP-AN = A76XX Series Sleep Mode Application Note V1.02; A76-UART-AN =
// A76XX Series UART Application Note V1.02; A76-ATM = AT Command Manual V1.09]:
//   - AT+CSCLK=1: "ensure that DTR is pulled high and the module can go to DTR sleep" (A76-ATM
//     §10.2.7, NO_SAVE: the network module resets it at every boot);
//   - it sleeps when DTR is high and the module is idle ("no data transmission, ... no other AT
//     command running", A76-SLEEP-AN §2.3); "From the working mode to the sleep mode, the module
//     takes about 10 to 20 seconds" (ch. 2): sleepAfterMs, 15 s by default;
//   - "UART is ready to exit from the sleep mode if DTR pin is pulled down" (§2.1), and "Anytime
//     host want send data to module, it must be pull down DTR then 20ms" (A76-UART-AN §4.4):
//     wakeMs 20. Bytes that arrive while it sleeps, or before those 20 ms have passed, are lost
//     [inferred from §4.4: only CSCLK=2 "RX sleep" wakes on data (A76-ATM §10.2.7)];
//   - DTR has a pull-up inside the modem (A76-UART-AN table 1 "UART_DTR I ... Pull-Up"): a host
//     pin that is not an output (ESP32 reset, deep sleep) reads high;
//   - "If module coming call when in sleep mode, it will be waked up and send URC to host, module
//     will be auto sleep when URC send complete and DTR is high then sleep time" (A76-UART-AN
//     §4.4 note): anything the modem writes by itself (a URC for network data) wakes it at once,
//     and it sleeps again after sleepAfterMs more of idle with DTR high;
//   - RI: "When URC reported this pin will set to low about 60ms" with AT+CFGRI=1; AT+CFGRI=0
//     (the default) only for SMS (A76-SLEEP-AN §3.2; A76-ATM §10.2.10 AT+CFGRI=<status>
//     [,<URC_time>[,<SMS_time>]], read "+CFGRI: 0,60,120").
// DTR sleep, SIM800 [SIMCom SIM800-family hardware design, "Sleep Mode 1 (AT+CSCLK=1)" and "Wake Up
//   ... from Sleep Mode 1"; the same text in SIM868_Hardware_Design_V1.00 §4.3.2-4.3.3,
//   manualshelf.com/manual/shanghai-simcom/201607/user-s-manual-english/page-25.html]: "When DTR
//   is in high level and without interrupt (on air and hardware such as GPIO interrupt or data in
//   serial port), SIM868 will enter sleep mode automatically ... the serial port is not
//   accessible"; "The serial port will be active after DTR pin is pulled to low level for about
//   50ms": wakeMs 50. The manuals give no time to enter sleep mode 1; sleepAfterMs 5 s [inferred:
//   the figure web write-ups give for CSCLK=2, raviyp.com "SIM900/SIM800 Sleep mode AT Commands"].
//   RI on a URC: 120 ms low with AT+CFGRI=1 [SIM800 hardware design, RI behaviour table; inferred
//   the same for the TCP data URC].
// CSCLK=2 (RX sleep) is stored by the modems but not simulated: the modem stays awake.
//
// PSM, A76xx only [A76-ATM §34.2.2 AT+CPSMS, AUTO_SAVE]: opts.psm = { grant: true|false,
//   tau?: '8-bit string', active?: '8-bit string', cereg4?: true }. The network grants what was
//   requested (or tau/active instead) or refuses (grant false). With PSM requested (mode 1) and
//   granted, the modem enters PSM after Active-Time (T3324) of idle while registered; in PSM the
//   UART is dead (input lost) and what the network sends waits until it leaves PSM; it leaves PSM
//   when PWRKEY is asserted for Ton (50 ms, A7670 hardware manual via modem-facts §A.2) or at the
//   periodic TAU (T3412), and returns to PSM after Active-Time of idle [inferred: neither the
//   Sleep Mode AN nor the AT manual V1.09 describes PSM itself; the PWRKEY wake is how SIMCom's
//   PSM modules are woken]. What was granted: the AT manual V1.09 lists AT+CEREG <n> 0-2 only
//   (§5.2.2, test "+CEREG: (0-2)"), so by default AT+CEREG=4 is refused like any n > 2; firmware
//   that reports it (cereg4: true) answers the read form of 3GPP TS 27.007 §10.1.22:
//   "+CEREG: 4,<stat>,[<tac>],[<ci>],[<AcT>],[<cause_type>],[<reject_cause>],[<Active-Time>],[<Periodic-TAU>]".
//   AT+CEDRXS / AT+CEDRXRDP are not in the V1.09 manual: unknown commands (ERROR), as before.

/** seconds of a GPRS Timer 3 (T3412 ext., 3GPP TS 24.008 Table 10.5.163a) or GPRS Timer 2 (T3324,
 *  Table 10.5.163) octet given as 8 bits; null = deactivated */
export function timerSeconds(bits, timer3) {
  const unit = parseInt(bits.slice(0, 3), 2);
  const v = parseInt(bits.slice(3), 2);
  const units = timer3 ? [600, 3600, 36000, 2, 30, 60, 1152000, null] : [2, 60, 360, 60, 60, 60, 60, null];
  return units[unit] == null ? null : units[unit] * v;
}

export function createSleep({ core, clock, device, board, csclk, registered = () => true, kind, timing = {}, psm = null, flash = {} }) {
  const t = { sleepAfterMs: kind === 'SIM800' ? 5000 : 15000, wakeMs: kind === 'SIM800' ? 50 : 20, riUrcMs: kind === 'SIM800' ? 120 : 60, ...timing };
  const pins = device.pins;
  const dtr = board.dtr ?? board.documented?.dtr;
  const stats = { sleepMs: 0, psmMs: 0, sleeps: 0, wakes: 0, lostBytes: 0, riPulses: 0 };
  let state = 'awake';
  let since = clock.now();
  let last = clock.now();
  let timer = null;
  let wakeTimer = null;
  let tauTimer = null;
  let held = '';
  let cfgri = 0;
  let riMs = t.riUrcMs;
  let cereg4 = false;
  if (psm && !flash.psms) flash.psms = { mode: 0, rau: '', ready: '', tau: '', active: '' }; // AUTO_SAVE

  // (host/testing/test-device.mjs pins have no modes and drive nothing: the level is what the test set)
  const dtrHigh = () => dtr == null || (pins.mode && pins.mode(dtr) !== 'output') || pins.level(dtr) === 1;
  const ri = pins.drive ? board.documented?.ri : undefined;
  if (ri != null) pins.drive(ri, 1); // "the pin will stay high normally" (A76-SLEEP-AN §3.2)

  function set(s) {
    const now = clock.now();
    if (state === 'sleep') stats.sleepMs += now - since;
    if (state === 'psm') stats.psmMs += now - since;
    if (s === 'sleep') stats.sleeps++;
    if (s === 'awake' && state !== 'awake') stats.wakes++;
    state = s;
    since = now;
  }

  const granted = () => {
    if (!psm || !psm.grant || !flash.psms || flash.psms.mode !== 1) return null;
    const tau = psm.tau || flash.psms.tau;
    const active = psm.active || flash.psms.active;
    return tau && active ? { tau, active } : null;
  };

  function idleFor() {
    const g = granted();
    if (g && registered()) return timerSeconds(g.active, false) * 1000;
    return csclk() === 1 ? t.sleepAfterMs : null;
  }

  function arm() {
    if (timer != null) clock.clearTimeout(timer);
    timer = null;
    if (state !== 'awake' || !core.ready) return;
    const after = idleFor();
    if (after == null) return;
    timer = clock.setTimeout(check, Math.max(1, last + after - clock.now()));
  }

  function check() {
    timer = null;
    if (state !== 'awake' || !core.ready) return;
    const after = idleFor();
    if (after == null) return;
    if (clock.now() - last < after || core.status({}).busy) {
      if (core.status({}).busy) last = clock.now();
      return arm();
    }
    const g = granted();
    if (g && registered()) {
      set('psm');
      const tau = timerSeconds(g.tau, true);
      if (tau) tauTimer = clock.setTimeout(() => wake('tau'), tau * 1000);
      return;
    }
    if (csclk() === 1 && dtrHigh()) set('sleep');
    else arm();
  }

  function activity() {
    last = clock.now();
    arm();
  }

  function wake() {
    if (state === 'awake') return;
    if (tauTimer != null) clock.clearTimeout(tauTimer);
    tauTimer = null;
    set('awake');
    const h = held;
    held = '';
    if (h) core.m.raw(h);
    activity();
  }

  function riPulse() {
    if (ri == null || !cfgri) return;
    stats.riPulses++;
    pins.drive(ri, 0);
    clock.setTimeout(() => pins.drive(ri, 1), riMs);
  }

  if (dtr != null) {
    pins.onChange(dtr, () => {
      if (state === 'sleep' && !dtrHigh()) {
        if (wakeTimer != null) clock.clearTimeout(wakeTimer);
        wakeTimer = clock.setTimeout(() => {
          wakeTimer = null;
          if (state === 'sleep' && !dtrHigh()) wake();
        }, t.wakeMs);
      }
      activity();
    });
  }
  if (psm) {
    // PSM exit by PWRKEY asserted for Ton (power.mjs: the same pin and its inversion)
    const pk = board.pwrkey;
    let start = null;
    pins.onChange(pk.pin, () => {
      const asserted = (pk.inverted ? 1 - pins.level(pk.pin) : pins.level(pk.pin)) === 0;
      if (asserted) start = clock.now();
      else if (start != null && state === 'psm' && clock.now() - start >= 50) wake();
    });
  }

  const handlers = {
    // A76-ATM §10.2.10 (the SIM800 takes the same write form: AT+CFGRI=<status>)
    '+CFGRI'(c, b) {
      if (c.form === 'test') return b.info('+CFGRI: (0-1),(10-6000),(20-6000)').ok();
      if (c.form === 'read') return b.info(`+CFGRI: ${cfgri},${riMs},120`).ok();
      if (c.form === 'exec') {
        cfgri = 0;
        riMs = t.riUrcMs;
        return b.ok();
      }
      const v = c.params.map((p) => (/^\d+$/.test(p.value) ? Number(p.value) : null));
      if (v[0] !== 0 && v[0] !== 1) return b.error();
      if (v.length > 1 && !(v[1] >= 10 && v[1] <= 6000)) return b.error();
      cfgri = v[0];
      if (v.length > 1) riMs = v[1];
      b.ok();
    },
  };
  if (psm) {
    const bits = (p) => (p === undefined || p.value === '' ? '' : /^[01]{8}$/.test(p.value) ? p.value : null);
    // A76-ATM §34.2.2
    handlers['+CPSMS'] = (c, b) => {
      if (c.form === 'test') return b.info('+CPSMS: (0-2)').ok();
      const p = flash.psms;
      if (c.form === 'read') return b.info(`+CPSMS: ${p.mode},${p.rau},${p.ready},${p.tau},${p.active}`).ok();
      if (c.form !== 'write') return b.error();
      const mode = c.params[0] && /^[0-2]$/.test(c.params[0].value) ? Number(c.params[0].value) : null;
      const v = [1, 2, 3, 4].map((i) => bits(c.params[i]));
      if (mode === null || v.includes(null) || c.params.length > 5) return b.error();
      if (mode === 2) flash.psms = { mode: 0, rau: '', ready: '', tau: '', active: '' };
      else flash.psms = { mode, rau: v[0] || p.rau, ready: v[1] || p.ready, tau: v[2] || p.tau, active: v[3] || p.active };
      b.ok();
      activity();
    };
  }

  return {
    handlers,
    /** wraps the network module's +CEREG handler: n=4 only with psm.cereg4 (see the header) */
    cereg(inner) {
      return (c, b) => {
        const n = c.form === 'write' && c.params.length === 1 ? c.params[0].value : null;
        if (psm && psm.cereg4 && n === '4') {
          cereg4 = true;
          return b.ok();
        }
        if (c.form === 'write' || c.form === 'exec') cereg4 = false;
        if (c.form === 'read' && cereg4) {
          const g = granted();
          const stat = registered() ? 1 : 0;
          return b.info(`+CEREG: 4,${stat},,,7` + (g && registered() ? `,,,"${g.active}","${g.tau}"` : '')).ok();
        }
        inner(c, b);
      };
    },
    /** core hook: bytes from the host; null = lost (asleep, in PSM, or still waking) */
    acceptInput(data) {
      if (state !== 'awake') {
        stats.lostBytes += data.length;
        return null;
      }
      activity();
      return data;
    },
    /** core hook: bytes the modem writes; asleep, a URC wakes it (RI pulse); in PSM it waits */
    output(text) {
      if (state === 'psm') {
        held += text;
        return null;
      }
      if (state === 'sleep') {
        wake();
        riPulse();
      }
      activity();
      return text;
    },
    activity,
    /** every power transition: awake, timers gone (CSCLK is NO_SAVE; CPSMS stays in flash) */
    reset() {
      for (const x of [timer, wakeTimer, tauTimer]) if (x != null) clock.clearTimeout(x);
      timer = wakeTimer = tauTimer = null;
      held = '';
      cfgri = 0;
      riMs = t.riUrcMs;
      cereg4 = false;
      set('awake');
      last = clock.now();
    },
    get lowPower() {
      return state;
    },
    stats,
    /** stats with the current stretch counted */
    snapshot() {
      const s = { ...stats };
      if (state === 'sleep') s.sleepMs += clock.now() - since;
      if (state === 'psm') s.psmMs += clock.now() - since;
      return s;
    },
  };
}
