// The firmware's life: power the modem, attach, connect MQTT, then every interval take a
// reading, queue it, and send the queue in order. A reading leaves the queue only once the
// broker has it (QoS 1: +CMQTTPUB: 0,0 after the PUBACK); a failure keeps it for the next try.

import { board, config } from './target';
import { createAt } from './at/engine';
import { log, uptime } from './log';
import { powerUp } from './modem/power';
import { netUp } from './modem/a76xx-net';
import { mqttConnect, mqttListen, mqttPublish, mqttSubscribe } from './modem/a76xx-mqtt';
import { readingJson, readSignal, Environment } from './readings';
import { bme280Init, bme280Read, Bme280 } from './sensors/bme280';
import { series } from './series';

const MIN_INTERVAL_S = 10;

export function start() {
  log('cellpub ' + config.version + ' on ' + board.title);
  Serial2.setup(board.uart.baud, { rx: board.uart.rx, tx: board.uart.tx });
  const at = createAt(function (d) {
    Serial2.write(d);
  }, log);
  Serial2.on('data', at.feed);

  let sensor: Bme280 | null = null;
  let sensorError: string | null = null;
  if (config.bme280) {
    I2C1.setup({ sda: board.i2c.sda, scl: board.i2c.scl, bitrate: 100000 });
    try {
      sensor = bme280Init(I2C1, config.bme280.address);
    } catch (e) {
      sensorError = '' + ((e as any).message || e);
      log('sensor: ' + sensorError);
    }
  }

  const queue: string[] = [];
  let dropped = 0;
  let online = false; // MQTT session up
  let sending = false;
  let modemOn = false;
  let interval = config.intervalS;
  let readTimer = 0;
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
        keep(readingJson(env, err, dbm, uptime()));
        drain();
      });
    };
    if (!sensor) return finish(null, sensorError);
    bme280Read(sensor, function (err, env) {
      finish(env || null, err ? err.message : null);
    });
  }

  function schedule(s: number) {
    interval = s;
    if (readTimer) clearInterval(readTimer);
    readTimer = setInterval(takeReading, s * 1000);
  }

  function drain() {
    if (!online || sending || !queue.length) return;
    sending = true;
    const json = queue[0];
    mqttPublish(at, config.topics.telemetry, json, config.qos, false, function (err) {
      sending = false;
      if (err) {
        log('publish: failed, kept ' + queue.length + ' reading(s): ' + err);
        return lost('publish failed');
      }
      if (queue[0] === json) queue.shift();
      log('publish: ok (' + json.length + ' bytes, ' + queue.length + ' waiting)');
      drain();
    });
  }

  function reply(obj: { [k: string]: any }) {
    if (!online) return;
    mqttPublish(at, config.topics.status, JSON.stringify(obj), 0, false, function (err) {
      if (err) log('status: ' + err);
    });
  }

  function onCommand(topic: string, payload: string) {
    if (topic != config.topics.command) return log('mqtt: message on ' + topic + ' ignored');
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
      const s = Math.floor(c.s);
      if (!(s >= MIN_INTERVAL_S && s <= 86400)) return reply({ error: 'interval s must be ' + MIN_INTERVAL_S + '..86400' });
      schedule(s);
      return reply({ ack: 'interval', s: s });
    }
    reply({ error: 'unknown command ' + c.cmd + ' (known: read, interval)' });
  }

  function lost(why: string) {
    if (!online) return;
    online = false;
    log('mqtt: ' + why + ', reconnecting');
    setTimeout(bringUp, 1000);
  }

  mqttListen(at, onCommand, lost);

  function bringUp() {
    const steps = [];
    if (!modemOn) {
      steps.push(function (next: (e?: any) => void) {
        powerUp(board, at, next);
      });
      steps.push(function (next: (e?: any) => void) {
        netUp(at, config, next);
      });
    }
    steps.push(function (next: (e?: any) => void) {
      modemOn = true;
      log('mqtt: connecting to ' + config.broker.host + ':' + config.broker.port + (config.broker.tls ? ' (TLS)' : ''));
      mqttConnect(at, config.broker, { topic: config.topics.status, payload: '{"online":false}' }, next);
    });
    steps.push(function (next: (e?: any) => void) {
      mqttSubscribe(at, config.topics.command, 1, next);
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
      log('mqtt: connected');
      if (!readTimer) {
        schedule(interval);
        takeReading();
      } else drain();
    });
  }

  bringUp();
}
