// DTR sleep in always-on mode (config power.modem "dtr-sleep", build flag __DTR_SLEEP__): after
// each attach the modem gets AT+CSCLK=1, and DTR is held HIGH whenever the AT engine has nothing
// in flight or queued, so the modem may sleep; before a command DTR goes LOW and the command
// waits for the modem's UART to wake.
//   A76xx: AT+CSCLK=1 "ensure that DTR is pulled high and the module can go to DTR sleep" (A76XX
//     AT manual V1.09 §10.2.7; NO_SAVE: sent again after every attach, so after every modem
//     boot); asleep 10-20 s after it went idle (Sleep Mode AN V1.02 ch. 2); "Anytime host want
//     send data to module, it must be pull down DTR then 20ms" (UART AN V1.02 §4.4).
//   SIM800: sleep mode 1 (AT+CSCLK=1): asleep with DTR high and no activity, "the serial port is
//     not accessible"; after DTR goes low "the serial port will be active ... for about 50ms"
//     (SIMCom SIM800-family hardware design, "Sleep Mode 1" / "Wake Up ... from Sleep Mode 1";
//     same text in SIM868_Hardware_Design_V1.00 §4.3.2-4.3.3).
// URCs need nothing here: a sleeping modem wakes for an incoming message (paging, data) and
// writes its URC on the UART (A76xx UART AN §4.4 note: "it will be waked up and send URC to
// host, module will be auto sleep when URC send complete and DTR is high"); RI would only matter
// to wake a sleeping host, and in always-on mode the ESP32 listens all the time.
import { board } from '../target';
import type { At } from '../at/engine';
import { log } from '../log';

const WAKE_MS = __SIM800__ ? 50 : 20;
let low = 0; // DTR driven low by us (the modem's UART is awake)

/** The engine's wake hook: DTR low, then the command once the UART is awake. */
export function dtrWake(go: () => void): void {
  if (low) return go();
  low = 1;
  digitalWrite(board.dtr!, 0);
  setTimeout(go, WAKE_MS);
}

/** The engine's idle hook: DTR high, the modem may sleep. */
export function dtrIdle(): void {
  low = 0;
  digitalWrite(board.dtr!, 1);
}

/** After each attach: DTR sleep on (AT+CSCLK is NO_SAVE on the A76xx). */
export function dtrSleepOn(at: At): void {
  at.send({
    at: 'AT+CSCLK=1',
    mayFail: 1,
    cb: function (err) {
      log(err ? 'modem: AT+CSCLK=1 refused, the modem stays awake' : 'modem: DTR sleep on');
    },
  });
}
