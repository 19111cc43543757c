#!/usr/bin/env node
// `npm start`: a T-A7670X on the desk, in real time, with no hardware. The real firmware bundle
// runs on the Espruino-like runtime and drives a simulated A7670G by its pins; the modem's MQTT
// stack connects over TLS (SNI, MQTT 3.1.1, user/password) to a real broker on 127.0.0.1, and a
// subscriber prints each reading as it arrives. Ctrl-C stops it.
//
//   npm start                          T-A7670X, a reading every 15 s
//   npm start -- --board t-sim7670g-s3 --interval 30
//   npm start -- --board t-call-sim800l  the SIM800L (factory autobaud) with its IP5306 power chip;
//                                       the firmware's own MQTT client, plain MQTT on 1883

import { createRig, CLUSTER_HOST, PLAIN_HOST } from '../testing/rig.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const board = arg('board', 't-a7670x');
const interval = Number(arg('interval', 15));
const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const say = (who, msg) => console.log(`${stamp()}  ${who.padEnd(8)} ${msg}`);

say('board', `building the firmware for ${board} …`);
// the simulated network tells the time as it really is; the weather drifts slowly
const rig = await createRig({ board, mode: 'real', config: { intervalSeconds: interval }, modemOptions: { clockUtc: Date.now() } });
const weather = setInterval(() => {
  const h = (Date.now() - t0) / 3.6e6;
  rig.bme.set({ env: { temperatureC: 18 + 4 * Math.sin(h * 20), pressurePa: 101200 + 300 * Math.sin(h * 7), humidity: 55 + 15 * Math.cos(h * 13) } });
}, 1000);
if (rig.board.modem === 'SIM800') {
  say('board', `bundle ${rig.bytes} bytes; broker on ${rig.broker.host}:${rig.broker.plainPort} (plain MQTT) posing as ${PLAIN_HOST}`);
  say('board', 'the SIM800L boots in ~3 s in autobaud (no banner) and registers a few seconds later');
} else {
  say('board', `bundle ${rig.bytes} bytes; broker on ${rig.broker.host}:${rig.broker.tlsPort} (TLS, SNI required) posing as ${CLUSTER_HOST}`);
  say('board', 'the modem takes ~11 s to boot and a few more to register, as a real A7670 does');
}

rig.device.onLog((line) => say('device', line));

// modem power and broker events, as status lines
let lastPower = '';
const powerWatch = setInterval(() => {
  const p = rig.modem.state.power;
  if (p !== lastPower) {
    lastPower = p;
    say('modem', `power ${p}`);
  }
}, 50);
let seenEvents = 0;
let seenMessages = 0;
const brokerWatch = setInterval(() => {
  for (; seenEvents < rig.broker.events.length; seenEvents++) {
    const e = rig.broker.events[seenEvents];
    if (e.internal) continue;
    say(
      'broker',
      `connect from ${e.clientId ?? '?'}: ${e.outcome} (${e.transport === 'plain' ? 'plain TCP' : `SNI ${e.servername || 'none'}`}, MQTT ${e.protocolVersion === 4 ? '3.1.1' : e.protocolVersion})`,
    );
  }
  for (; seenMessages < rig.subscriber.messages.length; seenMessages++) {
    const m = rig.subscriber.messages[seenMessages];
    say('received', `${m.topic}  ${m.text}`);
  }
}, 50);

rig.start();

async function stop() {
  clearInterval(powerWatch);
  clearInterval(brokerWatch);
  clearInterval(weather);
  say('board', 'stopping');
  await rig.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
