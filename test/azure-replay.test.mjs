// The SIM7670G owner's Azure attempts (test/fixtures/transcripts/sim7670g-azure-field-2024-08-*.log),
// replayed into the simulated modem against the IoT-Hub-like endpoint: the same failures the owner
// saw, then the same modem connecting once the two settings that were missing are sent.
// (The firmware's own sequence on the same simulator and hub is e2e-azure.test.mjs.)
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createTestDevice, powerUp } from '../host/testing/test-device.mjs';
import { parseCapture } from '../host/testing/transcripts.mjs';
import { makeTestPki } from '../host/broker/index.mjs';
import { startAzureHub, makeDeviceSas } from '../host/broker/azure.mjs';
import { board } from '../boards/t-sim7670g-s3.ts';

describe('azure-replay.test.mjs', () => {
  const LOGS = new URL('./fixtures/transcripts/', import.meta.url);
  const EPOCH = Date.UTC(2026, 10, 23, 9, 0, 0);
  const KEY = Buffer.from('replay test key for the hub, 32B').toString('base64');
  const HOST = 'IOTHUB.azure-devices.net'; // the name in the owner's log a; <myIotHub> in log b
  const pki = makeTestPki({ hosts: ['*.s1.eu.hivemq.cloud', '*.azure-devices.net'] });

  let hub;
  let clock;
  before(async () => {
    clock = createClock();
    hub = await startAzureHub({ pki, hub: 'IOTHUB', devices: { DEVICE: { primaryKey: KEY } }, now: () => EPOCH + clock.now() });
  });
  after(() => hub.close());

  /** A booted, registered SIM7670G on the hub's network; send(line, data) → what the modem printed. */
  async function modemOnNetwork() {
    const dev = createTestDevice(clock);
    const modem = createA76xx({
      clock,
      device: dev,
      board,
      clockUtc: EPOCH,
      dns: { [HOST]: { host: hub.host, port: hub.tlsPort }, '<myIotHub>.azure-devices.net': { host: hub.host, port: hub.tlsPort } },
    });
    await powerUp(clock, dev, board);
    await clock.runFor(20000); // boot (11.1 s), SIM, registration
    dev.host.take();
    const final = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n/;
    async function send(line, data) {
      let out = '';
      dev.host.write(line + '\r');
      assert.ok(
        await clock.runUntil(() => final.test((out += dev.host.take())) || /\r\n>$/.test(out), { timeoutMs: 30000, stepMs: 5 }),
        `no answer to ${line}`,
      );
      if (/\r\n>$/.test(out)) {
        dev.host.write(data);
        assert.ok(await clock.runUntil(() => final.test((out += dev.host.take())), { timeoutMs: 30000, stepMs: 5 }));
      }
      return out;
    }
    /** also waits for the async result of CMQTTSTART/CONNECT */
    async function sendAsync(line, urc) {
      let out = await send(line);
      if (/\r\nOK\r\n/.test(out))
        assert.ok(await clock.runUntil(() => (out += dev.host.take()).includes(urc), { timeoutMs: 60000, stepMs: 5 }), `no ${urc}: ${out}`);
      return out;
    }
    await send('ATE0'); // the owner's library had echo off: the log shows no echoes
    return { modem, send, sendAsync };
  }

  /** the modem's answer as lines, without the data prompt */
  const lines = (out) => out.split('\r\n').filter((l) => l && l !== '>');
  const sas = () => makeDeviceSas({ hostName: HOST, deviceId: 'DEVICE', key: KEY, expiry: Math.floor((EPOCH + clock.now()) / 1000) + 3600 });

  it('log a: CMQTTSTART and ACCQ given twice answer ERROR, and an ssl:// URL is error 12', async () => {
    const ex = parseCapture(readFileSync(new URL('sim7670g-azure-field-2024-08-a.log', LOGS), 'utf8'));
    const logged = (p) => ex.find((e) => e.command.startsWith(p));
    const { sendAsync, send } = await modemOnNetwork();
    // the owner's sketch had already run START and ACCQ once before this capture begins
    await sendAsync('AT+CMQTTSTART', '+CMQTTSTART:');
    await send('AT+CMQTTACCQ=0,"DEVICE",1');
    assert.deepEqual(lines(await send(logged('AT+CMQTTSTART').command)), ['ERROR']);
    assert.deepEqual(lines(await send(logged('AT+CMQTTACCQ').command)), ['ERROR']);
    assert.deepEqual(lines(await send(logged('AT+CMQTTSSLCFG').command)), ['OK']);
    assert.deepEqual(lines(await send(logged('AT+CMQTTCONNECT').command)), ['+CMQTTCONNECT: 0,12', 'ERROR']);
  });

  it('log b: REL on a never-acquired client is 0,20; CONNECT as the owner sent it is a bare ERROR', async () => {
    const ex = parseCapture(readFileSync(new URL('sim7670g-azure-field-2024-08-b.log', LOGS), 'utf8'));
    const { send, sendAsync } = await modemOnNetwork();
    for (const e of ex) {
      if (!e.command.startsWith('AT+CMQTT') && !e.command.startsWith('AT+CSSLCFG') && !e.command.startsWith('AT+CCERTDOWN')) continue;
      if (e.command === 'AT+CMQTTSTART') {
        assert.match(await sendAsync(e.command, '+CMQTTSTART:'), /\+CMQTTSTART: 0/);
        continue;
      }
      // the PEMs are elided in the log: upload the hub's CA and throw-away client files of the same length
      const len = Number((/,(\d+)$/.exec(e.command) || [])[1]);
      const out = await send(e.command, /ca_cert/.test(e.command) ? pki.caPem.padEnd(len, '\n').slice(0, len) : 'x'.repeat(len || 0));
      if (e.command === 'AT+CMQTTREL=0') assert.deepEqual(lines(out), ['+CMQTTREL: 0,20', 'ERROR']);
      else if (e.command.startsWith('AT+CMQTTCONNECT')) assert.deepEqual(lines(out), ['ERROR'], 'bare ERROR, as in the log');
      else assert.deepEqual(lines(out), ['OK'], e.command);
    }
    assert.equal(hub.events.filter((e) => e.kind === 'connect' && e.outcome === 'accepted').length, 0);
  });

  async function connectLikeTheOwner({ sni, version4 }) {
    const { send, sendAsync } = await modemOnNetwork();
    await sendAsync('AT+CMQTTSTART', '+CMQTTSTART:');
    await send('AT+CCERTDOWN="ca_cert.pem",' + pki.caPem.length, pki.caPem);
    for (const c of ['AT+CSSLCFG="cacert",0,"ca_cert.pem"', 'AT+CSSLCFG="sslversion",0,4', 'AT+CSSLCFG="authmode",0,1', 'AT+CMQTTSSLCFG=0,0'])
      assert.match(await send(c), /OK/);
    if (sni) assert.match(await send('AT+CSSLCFG="enableSNI",0,1'), /OK/);
    assert.match(await send('AT+CMQTTACCQ=0,"DEVICE",1'), /OK/);
    if (version4) assert.match(await send('AT+CMQTTCFG="version",0,4'), /OK/);
    const out = await sendAsync(`AT+CMQTTCONNECT=0,"tcp://${HOST}:8883",60,1,"${HOST}/DEVICE/?api-version=2021-04-12","${sas()}"`, '+CMQTTCONNECT: 0,');
    return /\+CMQTTCONNECT: 0,(\d+)/.exec(out)[1];
  }

  it('the two settings: without SNI or without MQTT 3.1.1 the hub refuses; with both it accepts', async () => {
    const noSni = await connectLikeTheOwner({ sni: false, version4: true });
    const v31 = await connectLikeTheOwner({ sni: true, version4: false });
    const both = await connectLikeTheOwner({ sni: true, version4: true });
    assert.notEqual(noSni, '0', 'no SNI: refused');
    assert.equal(v31, '27', 'MQTT 3.1: CONNACK "unacceptable protocol version"');
    assert.equal(both, '0', 'enableSNI + version 4: connected');
    assert.ok(hub.events.some((e) => e.kind === 'connect' && e.outcome === 'accepted' && e.servername === HOST));
  });
});
