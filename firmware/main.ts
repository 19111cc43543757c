// Entry point of the bundle; on the board it runs from Storage at every boot. It wires the parts:
//   the AT engine on the board's UART (at/), the power chip (power-chip/), readings
//   (telemetry/), commands and diagnostics (remote/), and the link supervisor (supervisor/),
//   which powers the modem and keeps the MQTT session up through the board's modem family
//   (modem/a76xx/ or modem/sim800/, chosen by the build).

import { board, config } from './target';
import { createAt } from './at/engine';
import { log } from './log';
import { uart, watchdog, bootReason } from './platform';
import { loadSecrets } from './store/secrets';
import { ip5306KeepOn } from './power-chip/ip5306';
import { startTelemetry } from './telemetry/telemetry';
import { startRemote } from './remote/commands';
import { startSupervisor, notStuck } from './supervisor/supervisor';
import { prepareTls } from './tls/broker-tls';
import { startDuty } from './power/duty';
import { dtrWake, dtrIdle } from './modem/dtr-sleep';
import { applyOverlay } from './remote/config-update';

const WATCHDOG_S = 30;

// first of all: on battery a T-A7670X resets unless IO12 goes HIGH right after boot (LilyGO)
if (board.keepPowerOn) digitalWrite(board.powerOn!, 1);
log('cellpub ' + config.version + ' on ' + board.title);
// settings changed by a config update (Storage cp.cfg), before anything reads config
applyOverlay();
const serial = uart(board.uart.port);
serial.setup(board.uart.baud, { rx: board.uart.rx, tx: board.uart.tx });
const at = createAt(
  function (d) {
    serial.write(d);
  },
  log,
  __DTR_SLEEP__ ? dtrWake : undefined,
  __DTR_SLEEP__ ? dtrIdle : undefined,
);
serial.on('data', at.feed);

if (config.bme280 || __IP5306__) I2C1.setup({ sda: board.i2c.sda, scl: board.i2c.scl, bitrate: 100000 });
if (__IP5306__) {
  // before the modem draws current: without keep-on the power chip may switch the board off
  const err = ip5306KeepOn(I2C1);
  log(err || 'power: IP5306 keep-on set');
}
const why = bootReason();
log('boot: ' + why);
const secretsError = loadSecrets(config);
if (secretsError) log(secretsError);

watchdog(WATCHDOG_S, notStuck);
startRemote(at, I2C1, why);
if (__DUTY__) startDuty(at, I2C1, why);
else {
  // readings are taken from boot on, link or not: they wait in flash
  startTelemetry(at, I2C1);
  startSupervisor(at);
}
// cellpub's TLS: this boot's X25519 key pair is made in slices while the modem attaches
// (duty cycle: at an upload only, power/duty.ts)
if (__TLS__ && !__DUTY__) prepareTls();
