// The firmware's life: power the modem, attach, connect MQTT, then every interval take a
// reading, queue it, and send the queue in order. A reading leaves the queue only once the
// broker has it (QoS 1: +CMQTTPUB: 0,0 after the PUBACK); a failure keeps it for the next try.

import { board, config } from './target';
import { createAt } from './at/engine';
import { log, uptime } from './log';
import { powerUp } from './modem/power';
import { netUp, mqttConnect, mqttDisconnect, mqttListen, mqttPublish, mqttSubscribe } from './modem/driver';
import { readingJson, readSignal, Environment } from './readings';
import { ip5306Battery, ip5306KeepOn } from './power/ip5306';
import { bme280Init, bme280Read, Bme280 } from './sensors/bme280';
import { series, Next } from './series';
import { azureMessage, azurePassword, azureTopics, azureTwinGet, AzureApp } from './cloud/azure';

const MIN_INTERVAL_S = 10;
const MAX_INTERVAL_S = 86400;

export function start() {
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

  const b = config.broker;
  const topics = config.topics;
  const queue: string[] = [];
  let dropped = 0;
  let online = false; // MQTT session up
  let sending = false;
  let modemOn = false;
  let interval = config.intervalS;
  let readTimer = 0;
  let renewTimer = 0;
  let renewing = false;
  let retryS = 5;

  function keep(json: string) {
    if (queue.length >= config.queueMax) {
      queue.shift();
      dropped++;
      log('queue: full, dropped the oldest reading (' + dropped + ' so far)');
    }
    queue.push(json);
  }

  function takeReading() {
    const finish = function (env: Environment | null, err: string | null) {
      readSignal(at, function (dbm) {
        keep(readingJson(env, err, dbm, uptime(), __IP5306__ ? ip5306Battery(I2C1) : undefined));
        drain();
      });
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
    if (!online || (__AZURE__ && renewing) || sending || !queue.length) return;
    sending = true;
    const json = queue[0];
    mqttPublish(at, topics.telemetry, json, config.qos, false, function (err) {
      sending = false;
      if (err) {
        log('publish: failed, kept ' + queue.length + ' reading(s): ' + err);
        return lost('publish failed');
      }
      if (queue[0] === json) queue.shift();
      log('publish: ok (' + json.length + ' bytes, ' + queue.length + ' waiting)');
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
    reply({ error: 'unknown command ' + c.cmd + ' (known: read, interval)' });
  }

  const azureApp: AzureApp = { publish: publish, setInterval: setReadInterval, command: command, reboot: function () {
    log('rebooting');
    setTimeout(E.reboot, 500);
  } };

  function onMessage(topic: string, payload: string) {
    if (__AZURE__ && azureMessage(azureApp, b.clientId, topic, payload)) return;
    if (topic == topics.command) return command(payload);
    log('mqtt: message on ' + topic + ' ignored');
  }

  function lost(why: string) {
    if (!online) return;
    online = false;
    log('mqtt: ' + why + ', reconnecting');
    setTimeout(bringUp, 1000);
  }

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
      bringUp();
    });
  }

  mqttListen(at, onMessage, lost);

  function bringUp() {
    const steps = [];
    if (!modemOn) {
      steps.push(function (next: Next) {
        powerUp(board, at, next);
      });
      steps.push(function (next: Next) {
        netUp(at, config, next);
      });
    }
    steps.push(function (next: Next) {
      modemOn = true;
      log('mqtt: connecting to ' + b.host + ':' + b.port + (b.tls ? ' (TLS)' : ''));
      const password = __AZURE__ ? azurePassword(b) : b.password;
      // Azure takes the will on the telemetry topic; elsewhere it goes to the status topic
      mqttConnect(at, b, password, { topic: topics.status, payload: '{"online":false}' }, next);
    });
    steps.push(function (next: Next) {
      mqttSubscribe(at, __AZURE__ ? azureTopics(b.clientId) : [topics.command], 1, next);
    });
    series(steps, function (err) {
      if (err) {
        log('error: ' + err);
        log('retrying in ' + retryS + ' s');
        setTimeout(bringUp, retryS * 1000);
        retryS = Math.min(retryS * 2, 300);
        return;
      }
      retryS = 5;
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
      if (!readTimer) {
        setReadInterval(interval);
        takeReading();
      } else drain();
    });
  }

  bringUp();
}
