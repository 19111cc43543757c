// Looking after the device from afar: commands on the command topic (or, on Azure, direct
// methods, twin changes and cloud-to-device messages, cloud/azure.ts), answered on the status
// topic, and the diagnostics message sent there at each connect and on {"cmd":"diag"}.

import { board, config } from '../target';
import type { At } from '../at/engine';
import { log, uptime, recentLog } from '../log';
import { reboot as restart } from '../platform';
import { mqttPublish, identQueries, cellQuery } from '../modem/driver';
import { readModemInfo, ModemInfo } from '../modem/identity';
import { readSignal, readNetwork } from '../modem/signal';
import { ip5306Battery } from '../power-chip/ip5306';
import { azureMessage, AzureApp } from '../cloud/azure';
import { takeReading, waiting, dropped } from '../telemetry/telemetry';
import { keepInterval, configCommand } from './config-update';
import { state, ONLINE, trouble } from '../supervisor/supervisor';
import { POWER_CYCLE } from '../supervisor/ladder';
import { ota } from './ota';

let at: At;
let i2c: EspruinoI2C;
let bootReason = '';
let modemInfo: ModemInfo | null = null;

export function startRemote(modemAt: At, bus: EspruinoI2C, why: string) {
  at = modemAt;
  i2c = bus;
  bootReason = why;
}

/** Once per boot, when the network is first up: the modem's model, revision and SIM. */
export function readIdentity(next: () => void) {
  if (modemInfo) return next();
  readModemInfo(at, identQueries, board.modemModel, function (info) {
    modemInfo = info;
    log('modem: ' + info.model + ' ' + info.rev + (info.warn ? '; warning: ' + info.warn : ''));
    next();
  });
}

export function publish(topic: string, payload: string, done?: (err: string | null) => void) {
  if (state != ONLINE) return done && done('offline');
  mqttPublish(at, topic, payload, 0, false, function (err) {
    if (err) log('publish to ' + topic + ': ' + err);
    if (done) done(err);
  });
}

function reply(obj: { [k: string]: any }) {
  publish(config.topics.status, JSON.stringify(obj));
}

function reboot(why?: any) {
  log('rebooting');
  restart(why || 'reboot command');
}

function command(payload: string) {
  let c: any;
  try {
    c = JSON.parse(payload);
  } catch (e) {
    c = null;
  }
  if (!c || typeof c.cmd != 'string') return reply({ error: 'commands are JSON like {"cmd":"read"}' });
  log('command: ' + c.cmd);
  if (c.cmd == 'read') return takeReading();
  if (c.cmd == 'interval') {
    const err = keepInterval(c.s);
    return reply(err ? { error: err } : { ack: 'interval', s: c.s });
  }
  if (c.cmd == 'diag') return linkReport();
  if (c.cmd == 'log') return reply({ log: recentLog(c.n) });
  if (c.cmd == 'config') {
    const r = configCommand(c);
    // a restart (new topics) only once the reply is out
    return publish(config.topics.status, JSON.stringify(r), function () {
      if (r.reboot) reboot('config update');
    });
  }
  if (__OTA__ && c.cmd == 'ota') return ota(c);
  if (c.cmd == 'reboot') {
    reply({ ack: 'reboot' });
    return reboot();
  }
  if (c.cmd == 'modem-reset') {
    reply({ ack: 'modem-reset' });
    // after the reply is out: the ladder's power-cycle rung, as if the modem had stopped answering
    return setTimeout(function () {
      trouble('a modem reset was asked for', POWER_CYCLE);
    }, 500);
  }
  reply({ error: 'unknown command ' + c.cmd + ' (known: read, interval, diag, log, config, reboot, modem-reset)' });
}

/** The diagnostics message (status topic): firmware, board, modem, SIM, signal, registration,
 *  serving cell, queue, memory. */
export function linkReport() {
  const m = modemInfo || { model: board.modemModel, rev: '', iccid: '' };
  const d: { [k: string]: any } = {
    fw: config.version,
    board: board.id,
    modem: m.model,
    rev: m.rev,
    iccid: m.iccid,
    boot: bootReason,
    up: Math.floor(uptime()),
    queue: waiting(),
    dropped: dropped(),
    free: process.memory().free,
  };
  if (m.warn) d.warn = m.warn;
  if (__IP5306__) d.bat = ip5306Battery(i2c).pct;
  readSignal(at, function (dbm) {
    d.rssi = dbm;
    readNetwork(at, cellQuery, d, function () {
      if (__DUTY__) mqttPublish(at, config.topics.status, JSON.stringify({ diag: d }), 0, false, reported);
      else reply({ diag: d });
    });
  });
}

let reported = function (err: string | null) {};

/** Duty cycle: the diagnostics message, then fn (whether it went out or not; a link lost on the
 *  way leaves it to the upload's time budget). */
export function diagThen(fn: () => void) {
  if (state != ONLINE) return fn();
  reported = fn;
  linkReport();
}

export const azureApp: AzureApp = { publish: publish, setInterval: keepInterval, command: command, reboot: reboot };

export function onMessage(topic: string, payload: string, tries?: any) {
  // delivered while the session is still being set up (a persistent session's queued commands come
  // with the SUBSCRIBE, before the link is up): carried out once it is, so the reply can go out
  tries = tries || 0;
  if (state != ONLINE && tries < 100)
    return setTimeout(function () {
      onMessage(topic, payload, tries + 1);
    }, 100);
  if (__AZURE__ && azureMessage(azureApp, config.broker.clientId, topic, payload)) return;
  if (topic == config.topics.command) return command(payload);
  log('mqtt: message on ' + topic + ' ignored');
}
