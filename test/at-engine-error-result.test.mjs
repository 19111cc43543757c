// issue 10 #15: "ERROR" and then the async result "+CMQTTCONNECT: <idx>,<err>" (A76XX AT manual
// §18.2.2 AT+CMQTTCONNECT, response case 3: "If failed: ERROR / +CMQTTCONNECT: <client_index>,<err>"):
// the engine waits briefly after a bare ERROR to a command with an async result, so the modem's
// code (and with it the hint) is not lost. Unit test of firmware/at/engine.ts on a fake clock.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { createClock } from '../host/runtime/clock.mjs';

describe('at-engine-error-result.test.mjs', () => {
  // mocha runs all the files in one process: give back the timers and clock this file replaces
  const saved = {};
  before(() => {
    for (const k of ['setTimeout', 'clearTimeout', 'getTime']) saved[k] = globalThis[k];
  });
  after(() => Object.assign(globalThis, saved));

  async function engine() {
    const clock = createClock();
    globalThis.setTimeout = (fn, ms) => clock.setTimeout(fn, ms);
    globalThis.clearTimeout = (id) => clock.clearTimeout(id);
    globalThis.getTime = () => clock.now() / 1000;
    const { createAt } = await import('../firmware/at/engine.ts');
    const sent = [];
    const at = createAt(
      (d) => sent.push(d),
      () => {},
    );
    return { clock, at, sent };
  }

  it('engine: bare ERROR then "+CMQTTCONNECT: 0,32" is MQTT error 32, not a bare error', async () => {
    const { clock, at } = await engine();
    let got = null;
    at.send({ at: 'AT+CMQTTCONNECT=0,"tcp://h:8883",60,1', done: '+CMQTTCONNECT: 0,', cb: (err) => (got = err) });
    at.feed('\r\nERROR\r\n');
    await clock.runFor(50);
    at.feed('\r\n+CMQTTCONNECT: 0,32\r\n');
    await clock.runFor(2000);
    assert.ok(got, 'answered');
    assert.deepEqual([got.kind, got.code], ['mqtt', 32]);
  });

  it('engine: a bare ERROR with no result after it is still a bare error, after a short wait', async () => {
    const { clock, at } = await engine();
    let got = null;
    let t = 0;
    at.send({ at: 'AT+CMQTTSTART', done: '+CMQTTSTART: ', cb: (err) => ((got = err), (t = clock.now())) });
    at.feed('\r\nERROR\r\n');
    await clock.runFor(3000);
    assert.deepEqual([got.kind, got.code], ['error', -1]);
    assert.ok(t <= 1000, `waited ${t} ms`);
  });
});
