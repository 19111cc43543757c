// The recovery ladder: what to do about a broken link, cheapest first. Each failure of a rung
// counts against its limit; past the limit the next rung is tried. Evidence can start higher
// (a dropped data context skips straight to reattaching it). Success resets the ladder.
// Waits between attempts double from 2 s up to MAX_WAIT_S, with ±20 % jitter so a fleet that lost
// the same broker does not come back in step; the cap keeps recovery within about a minute of
// the fault clearing.

/** What each rung does, for the log (made when needed: a table kept at load costs RAM). */
export function rungName(rung: number): string {
  return [
    'reconnect',
    'restart the MQTT stack',
    'reattach the data connection',
    'switch the radio off and on (CFUN)',
    'power-cycle the modem (PWRKEY)',
    'cut the modem power (POWER_ON)',
  ][rung];
}
export const RECONNECT = 0;
export const RESTART_MQTT = 1;
export const REATTACH = 2;
export const RADIO = 3;
export const POWER_CYCLE = 4;
export const POWER_CUT = 5;

/** The lowest rung that can mend a session a driver reports lost, by its cause (modem/causes.ts:
 *  the session, the data connection, the modem itself). */
export function rungFor(cause: number): number {
  return [RECONNECT, REATTACH, POWER_CYCLE][cause];
}

const MAX_WAIT_S = 45;

export interface Ladder {
  /** A failure; min = the lowest rung the evidence allows. Returns the rung to try next and when. */
  fail(min: number): { rung: number; ms: number };
  ok(): void;
}

export function createLadder(): Ladder {
  let rung = 0;
  let tries = 0; // on this rung
  let fails = 0; // in a row
  return {
    fail: function (min) {
      fails++;
      if (min > rung) {
        rung = min;
        tries = 0;
      } else if (tries >= [2, 1, 2, 1, 1, 1][rung] && rung < POWER_CUT) {
        // tries per rung: reconnect twice, restart MQTT once, reattach twice, then once each
        rung++;
        tries = 0;
      }
      tries++;
      const s = Math.min(MAX_WAIT_S, Math.pow(2, fails));
      return { rung: rung, ms: Math.round(s * (800 + 400 * Math.random())) };
    },
    ok: function () {
      rung = tries = fails = 0;
    },
  };
}
