// The firmware's life: power the modem, attach, connect MQTT, then every interval take a
// reading, keep it in flash, and send the queue in order. A reading leaves the queue only once
// the broker has it (QoS 1: the PUBACK); a failure keeps it for the next try. Whatever goes wrong
// with the link is handled in one place, trouble(), which climbs the recovery ladder (ladder.ts).

import { board, config } from './target';
import { createAt, answerLine, cmdName } from './at/engine';
import { log, uptime } from './log';
import { powerDown, powerUp, onModemRestart } from './modem/power';
import {
  netUp, dataReset, mqttConnect, mqttDisconnect, mqttListen, mqttPublish, mqttReset, mqttSubscribe,
  identQueries, cellQuery, radioReset,
} from './modem/driver';
import { readModemInfo, ModemInfo } from './remote/diagnostics';
import { regStat } from './modem/registration';
import { loadSecrets } from './store/secrets';
import { openFlashQueue } from './store/flash-queue';
import { openCounter } from './store/counter';
import { createLadder, rungFor, RUNGS, RECONNECT, RESTART_MQTT, REATTACH, RADIO, POWER_CYCLE, POWER_CUT } from './supervisor/ladder';
import { readingJson, readSignal, Environment } from './telemetry/reading';
import { ip5306Battery, ip5306KeepOn } from './power-chip/ip5306';
import { bme280Init, bme280Read, Bme280 } from './telemetry/bme280';
import { series, Next, Step } from './series';
import { azureMessage, azurePassword, azureTopics, azureTwinGet, AzureApp } from './cloud/azure';

const MIN_INTERVAL_S = 10;
const MAX_INTERVAL_S = 86400;
const WATCHDOG_S = 30;
// longer than the slowest honest attempt (power-up twice, 180 s registration, CIICR 85 s, NTP 65 s,
// CONNECT 70 s): an attempt or publish still unfinished after this is stuck
const STUCK_S = 900;
const SPILL_MAX = 20;
const BOOT_FILE = 'cp.boot';

export function start() {
  // first of all: on battery a T-A7670X resets unless IO12 goes HIGH right after boot (LilyGO)
  if (board.keepPowerOn) digitalWrite(board.powerOn!, 1);
  log('cellpub ' + config.version + ' on ' + board.title);
  Serial2.setup(board.uart.baud, { rx: board.uart.rx, tx: board.uart.tx });
  const at = createAt(function (d) {
    Serial2.write(d);
  }, log);
  Serial2.on('data', at.feed);

  let sensor: Bme280 | null = null;
  let sensorError: string | null = null;
  if (config.bme280 || __IP5306__) I2C1.setup({ sda: board.i2c.sda, scl: board.i2c.scl, bitrate: 100000 });
  if (__IP5306__) {
    // before the modem draws current: without keep-on the power chip may switch the board off
    const err = ip5306KeepOn(I2C1);
    log(err || 'power: IP5306 keep-on set');
  }
  if (config.bme280) {
    try {
      sensor = bme280Init(I2C1, config.bme280.address);
    } catch (e) {
      sensorError = '' + ((e as any).message || e);
      log('sensor: ' + sensorError);
    }
  }

  // why this boot: the firmware notes its own restarts; anything else is power-on, reset or watchdog
  const S = globalThis.require('Storage');
  const bootReason = S.read(BOOT_FILE) || 'power-on, reset button or watchdog';
  S.erase(BOOT_FILE);
  log('boot: ' + bootReason);
  let modemInfo: ModemInfo | null = null;

  const secretsError = loadSecrets(config);
  if (secretsError) log(secretsError);
  const b = config.broker;
  const topics = config.topics;
  // every reading goes to flash first and leaves only once the broker has acknowledged it
  const queue = openFlashQueue('cpq', config.queueMax);
  if (queue.size()) log('queue: ' + queue.size() + ' reading(s) kept from before');
  const ladder = createLadder();
  let online = false; // MQTT session up
  let recovering = false; // a ladder attempt is under way
  let sending = false;
  let modemOn = false; // powered and answering AT
  let netOk = false; // registered, data up (netUp done)
  let evidence = RECONNECT; // the lowest rung what happened since the last attempt allows
  let nextTimer = 0;
  let busySince = 0; // when the current attempt or publish began (watchdog)
  let interval = config.intervalS;
  let readTimer = 0;
  let renewTimer = 0;
  let renewing = false;

  // uptime, not getTime(): the RTC jumps when the network time is set (+1 so that 0 means idle)
  function busy(on: boolean) {
    busySince = on ? busySince || uptime() + 1 : recovering || sending ? busySince : 0;
  }

  // The ESP32 restarts (readings are safe in flash) if an attempt or a publish never finishes:
  // every step has its own timeout, so this only fires on a firmware bug.
  E.enableWatchdog(WATCHDOG_S, false);
  setInterval(function () {
    if (!busySince || uptime() + 1 - busySince < STUCK_S) E.kickWatchdog();
  }, 5000);

  const counter = openCounter('cpn');
  // readings flash would not take (Storage full or failing): kept in RAM, sent first
  const spill: string[] = [];

  function keep(json: string) {
    const before = queue.dropped();
    try {
      queue.push(json);
    } catch (e) {
      log('queue: flash refused a reading (' + (e as any).message + '); keeping it in RAM');
      if (spill.length >= SPILL_MAX) spill.shift();
      spill.push(json);
      return;
    }
    if (queue.dropped() > before) log('queue: full, dropped the oldest reading (' + queue.dropped() + ' so far)');
  }

  let taken = 0; // readings taken since boot
  function takeReading() {
    taken++;
    const finish = function (env: Environment | null, err: string | null) {
      const store = function (dbm: number | null) {
        keep(readingJson(counter.next(), env, err, dbm, uptime(), __IP5306__ ? ip5306Battery(I2C1) : undefined));
        drain();
      };
      // no signal figure while the modem is off or starting (its AT+CSQ would only time out)
      if (modemOn) readSignal(at, store);
      else store(null);
    };
    if (!sensor) return finish(null, sensorError);
    bme280Read(sensor, function (err, env) {
      finish(env || null, err ? err.message : null);
    });
  }

  /** Sets the reading interval; an error text when s is not allowed. */
  function setReadInterval(s: any): string | null {
    if (!(s === Math.floor(s) && s >= MIN_INTERVAL_S && s <= MAX_INTERVAL_S)) {
      return 'interval must be a whole number of seconds from ' + MIN_INTERVAL_S + ' to ' + MAX_INTERVAL_S;
    }
    interval = s;
    if (readTimer) clearInterval(readTimer);
    readTimer = setInterval(takeReading, s * 1000);
    log('interval: ' + s + ' s');
    return null;
  }

  function drain() {
    if (!online || (__AZURE__ && renewing) || sending || !(spill.length || queue.size())) return;
    sending = true;
    busy(true);
    const fromRam = spill.length > 0;
    const json = fromRam ? spill[0] : queue.peek()!;
    mqttPublish(at, topics.telemetry, json, config.qos, false, function (err) {
      sending = false;
      busy(false);
      if (err) return trouble('publish failed, ' + (queue.size() + spill.length) + ' reading(s) kept: ' + err, RECONNECT);
      if (fromRam) spill.shift();
      else if (queue.peek() === json) queue.ack(); // unless it was dropped for space meanwhile
      log('publish: ok (' + json.length + ' bytes, ' + (queue.size() + spill.length) + ' waiting)');
      if (__AZURE__ && renewing) renew();
      else drain();
    });
  }

  function publish(topic: string, payload: string, done?: (err: string | null) => void) {
    if (!online) return;
    mqttPublish(at, topic, payload, 0, false, function (err) {
      if (err) log('publish to ' + topic + ': ' + err);
      if (done) done(err);
    });
  }

  function reply(obj: { [k: string]: any }) {
    publish(topics.status, JSON.stringify(obj));
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
      const err = setReadInterval(c.s);
      return reply(err ? { error: err } : { ack: 'interval', s: c.s });
    }
    if (c.cmd == 'diag') return diag();
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
    reply({ error: 'unknown command ' + c.cmd + ' (known: read, interval, diag, reboot, modem-reset)' });
  }

  function reboot() {
    log('rebooting');
    S.write(BOOT_FILE, 'reboot command');
    setTimeout(E.reboot, 500);
  }

  /** The diagnostics message (status topic): firmware, board, modem, SIM, signal, queue, memory. */
  function diag() {
    const m = modemInfo || { model: board.modemModel, rev: '', iccid: '' };
    const d: { [k: string]: any } = {
      fw: config.version, board: board.id, modem: m.model, rev: m.rev, iccid: m.iccid,
      boot: bootReason, up: Math.floor(uptime()), queue: queue.size() + spill.length, dropped: queue.dropped(),
      free: process.memory().free,
    };
    if (m.warn) d.warn = m.warn;
    if (__IP5306__) d.bat = ip5306Battery(I2C1).pct;
    readSignal(at, function (dbm) {
      d.rssi = dbm;
      // registration as 3GPP 27.007 states it: 1 home, 5 roaming, 2 searching, 3 denied, 0 none
      at.send({ at: 'AT+CREG?', quiet: true, cb: function (e, l) {
        if (!e) d.reg = regStat(answerLine(l, '+CREG:'));
        if (!cellQuery) return reply({ diag: d });
        at.send({ at: cellQuery, quiet: true, cb: function (err, lines) {
          const cell = answerLine(lines, cmdName(cellQuery).substr(2) + ':');
          if (!err && cell) d.cell = cell.substr(cell.indexOf(':') + 1).trim();
          reply({ diag: d });
        } });
      } });
    });
  }

  const azureApp: AzureApp = { publish: publish, setInterval: setReadInterval, command: command, reboot: reboot };

  function onMessage(topic: string, payload: string) {
    if (__AZURE__ && azureMessage(azureApp, b.clientId, topic, payload)) return;
    if (topic == topics.command) return command(payload);
    log('mqtt: message on ' + topic + ' ignored');
  }

  // The supervisor: every sign of trouble (a URC, a failed publish, a failed attempt, the modem
  // restarting by itself) comes here; the ladder says what to try next and when.
  function trouble(why: string, rung: number) {
    if (rung > evidence) evidence = rung;
    if (!online) return; // an attempt is under way or scheduled: it will fail or see the evidence
    online = false;
    retry(why);
  }

  function retry(why: string) {
    const next = ladder.fail(evidence);
    evidence = RECONNECT;
    log('link: ' + why);
    log('link: will ' + RUNGS[next.rung] + ' in ' + (next.ms / 1000).toFixed(1) + ' s');
    if (nextTimer) clearTimeout(nextTimer);
    nextTimer = setTimeout(function () {
      nextTimer = 0;
      attempt(next.rung);
    }, next.ms);
  }

  onModemRestart(at, function () {
    log('modem: restarted by itself');
    netOk = false;
    trouble('the modem restarted', RECONNECT);
  });

  // A new session with fresh credentials before the SAS token runs out. Readings wait in the
  // queue meanwhile; the one being sent is finished first.
  function renew() {
    renewTimer = 0;
    if (!online) return; // already reconnecting: that session gets a fresh token anyway
    renewing = true;
    if (sending) return; // drain() calls renew() again when that publish is done
    log('mqtt: renewing the session before the token expires');
    online = false;
    mqttDisconnect(at, function () {
      renewing = false;
      attempt(RECONNECT);
    });
  }

  mqttListen(at, onMessage, function (why, cause) {
    trouble(why, rungFor(cause));
  });

  /** One climb of the ladder: undo down to `rung`, then build up again what is missing. */
  function attempt(rung: number) {
    if (at.silent() >= 2 && rung < POWER_CYCLE) rung = POWER_CYCLE; // the modem is not listening
    recovering = true;
    busy(true);
    if (rung) log('link: ' + RUNGS[rung]);
    const steps: Step[] = [];
    if (rung >= POWER_CYCLE) {
      steps.push(function (next: Next) {
        modemOn = netOk = false;
        powerDown(board, rung == POWER_CUT, next);
      });
    }
    steps.push(function (next: Next) {
      if (modemOn) return next();
      powerUp(board, at, function (err) {
        modemOn = !err;
        next(err);
      });
    });
    if (rung == RADIO) {
      steps.push(function (next: Next) {
        netOk = false;
        radioReset(at, next);
      });
    }
    if (rung == REATTACH) {
      steps.push(function (next: Next) {
        netOk = false;
        dataReset(at, next);
      });
    }
    steps.push(function (next: Next) {
      if (netOk) return next();
      netUp(at, config, function (err) {
        netOk = !err;
        if (err || modemInfo) return next(err);
        readModemInfo(at, identQueries, board.modemModel, function (info) {
          modemInfo = info;
          log('modem: ' + info.model + ' ' + info.rev + (info.warn ? '; warning: ' + info.warn : ''));
          next();
        });
      });
    });
    if (rung >= RESTART_MQTT) {
      // every rung from here on: after +CMQTTNONET "you should restart the MQTT service by
      // AT+CMQTTSTART" (A76XX AT manual §18.4), and a stack left started keeps its client
      steps.push(function (next: Next) {
        mqttReset(at, next);
      });
    }
    steps.push(function (next: Next) {
      log('mqtt: connecting to ' + b.host + ':' + b.port + (b.tls ? ' (TLS)' : ''));
      const password = __AZURE__ ? azurePassword(b) : b.password;
      // Azure takes the will on the telemetry topic; elsewhere it goes to the status topic
      mqttConnect(at, b, password, { topic: topics.status, payload: '{"online":false}' }, next);
    });
    steps.push(function (next: Next) {
      mqttSubscribe(at, __AZURE__ ? azureTopics(b.clientId) : [topics.command], 1, next);
    });
    series(steps, function (err) {
      recovering = false;
      busy(false);
      if (err) {
        log('error: ' + err);
        return retry('attempt failed');
      }
      ladder.ok();
      evidence = RECONNECT;
      online = true;
      renewing = false; // a renewal cut short by a lost connection is done: this session is new
      log('mqtt: connected');
      if (__AZURE__) {
        if (b.azure!.key) {
          if (renewTimer) clearTimeout(renewTimer);
          renewTimer = setTimeout(renew, b.azure!.tokenS * 800); // at 80 % of the token's life
        }
        azureTwinGet(azureApp);
      }
      diag();
      // the first reading of a boot as soon as it can go out, and the interval counted from it;
      // if the link took longer than an interval, readings have been taken from boot on anyway
      if (!taken) {
        setReadInterval(interval);
        takeReading();
      } else drain();
    });
  }

  // readings are taken from boot on, link or not: they wait in flash
  setReadInterval(interval);
  attempt(RECONNECT);
}
