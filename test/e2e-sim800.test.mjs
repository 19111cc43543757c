// End to end on the shipped T-Call SIM800L bundle: build.mjs output, unmodified, on the
// Espruino-like runtime, with the IP5306 power chip on I2C (keep-on clear, on battery: the state
// in which a T-Call switches itself off), driving the simulated SIM800L by its pins and UART. The
// firmware speaks MQTT 3.1.1 itself over the modem's TCP socket to a real broker (Aedes).
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig, TEST_USER } from '../host/testing/rig.mjs';

describe('e2e-sim800.test.mjs', () => {
  const NETWORK_EPOCH = Date.UTC(2026, 10, 23, 9, 0, 0); // what the simulated network says it is at boot

  async function withRig(opts, fn) {
    const rig = await createRig({ board: 't-call-sim800l', ...opts });
    try {
      rig.start();
      await fn(rig);
    } finally {
      await rig.close();
    }
  }

  it('T-Call SIM800L: readings reach the broker over plain MQTT on 1883, with battery and charging state', async () => {
    await withRig({ modemOptions: { clockUtc: NETWORK_EPOCH, network: { rssi: 23 } }, powerChipOptions: { batteryLevel: 50 } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 180000), rig.explain('fewer than two readings'));
      const [a, b] = rig.readings().map((m) => JSON.parse(m.text));
      // BME280 datasheet example values, CSQ 23 → -67 dBm, IP5306 0x78 = 0xC0 → 50 %, not charging
      assert.deepEqual({ ...a, ts: '', up: 0 }, { ts: '', t: 25.08, p: 1006.53, h: a.h, rssi: -67, up: 0, bat: 50, chg: 0, n: 1 });
      assert.equal(b.n, 2);
      // the time is the network's (NITZ after AT+CLTS=1), within the second the two clocks may straddle
      assert.ok(Math.abs(Date.parse(a.ts) - (NETWORK_EPOCH + a.up * 1000)) <= 1000, `ts ${a.ts} for up ${a.up}`);
      assert.equal(b.up - a.up, 60, 'one reading per intervalSeconds');
      assert.equal(rig.readings()[0].qos, 1);
      const conn = rig.broker.events.find((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
      assert.ok(conn, rig.explain('no accepted connect'));
      assert.deepEqual([conn.transport, conn.protocolVersion, conn.username, conn.clientId], ['plain', 4, TEST_USER.name, 'station-1']);
      // the firmware's own MQTT client went through the modem's TCP link 0 in manual-receive mode
      const t = rig.modem.transcript.text();
      for (const c of [
        'AT+CIPSHUT',
        'AT+CIPMUX=1',
        'AT+CIPRXGET=1',
        'AT+CSTT="internet"',
        'AT+CIICR',
        'AT+CIFSR',
        'AT+CIPSTART=0,"TCP","mqtt.cellpub.test",1883',
        'AT+CIPSEND=0,',
        'AT+CIPRXGET=2,0,',
      ]) {
        assert.ok(t.includes(c), `${c} not in the transcript`);
      }
      // autobaud fixed for later boots, and network time asked for
      assert.equal(rig.modem.flash.ipr, 115200);
      assert.ok(!rig.device.log.join('\n').includes(TEST_USER.password), 'the password never reaches the log');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('T-Call SIM800L on a network that sends no time: readings carry uptime and no timestamp, and say so once', async () => {
    await withRig({ modemOptions: { network: { nitz: false } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no reading'));
      const r = JSON.parse(rig.readings()[0].text);
      assert.equal(r.ts, undefined);
      assert.ok(r.up > 0);
      assert.equal(rig.device.log.filter((l) => /time: the network has not given the time yet/.test(l)).length, 1);
    });
  });

  it('T-Call SIM800L: the command topic reaches the firmware, and it answers on the status topic', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      const { command, status } = rig.config.topics;
      const statusMsgs = () => rig.subscriber.messages.filter((m) => m.topic === status).map((m) => m.text);
      const send = async (text) => {
        const sent = await rig.toModem(() => rig.subscriber.client.publishAsync(command, text, { qos: 1 }));
        await sent.result;
      };
      await send('{"cmd":"interval","s":20}');
      assert.ok(await rig.until(() => statusMsgs().includes('{"ack":"interval","s":20}'), 10000), rig.explain('no ack'));
      const n = rig.readings().length;
      await send('{"cmd":"read"}');
      assert.ok(await rig.until(() => rig.readings().length > n, 5000), rig.explain('no reading on request'));
      await send('{"cmd":"dance"}');
      assert.ok(await rig.until(() => statusMsgs().some((m) => /unknown command dance/.test(m)), 5000), rig.explain('no error reply'));
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('T-Call SIM800L: keep-on is set by read-modify-write before the modem is powered, so the board stays on', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 5, 400000), rig.explain('fewer than five readings'));
      const ip = rig.powerChip;
      assert.equal(ip.stats.cuts, 0, 'the power chip never switched the board off');
      assert.equal(ip.stats.reservedWrites, 0, 'reserved bits untouched');
      assert.equal(ip.registers[0x00], 0xbc | 0x02, 'SYS_CTL0: only keep-on (bit 1) changed');
      const writes = ip.stats.writes.filter((w) => w.reg === 0x00);
      assert.deepEqual(
        writes.map((w) => w.value),
        [0xbe],
        'one SYS_CTL0 write, with keep-on',
      );
      const log = rig.device.log;
      assert.ok(log.findIndex((l) => /keep-on set/.test(l)) < log.findIndex((l) => /power: modem on/.test(l)), 'before the modem was powered');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('mutation: without the IP5306 write the board switches itself off on battery, and readings stop', async () => {
    let mutated = false;
    const mutate = (code) => {
      // drop the SYS_CTL0 write (address 0x75 = 117, register 0): a firmware that forgets keep-on
      const out = code.replace(/[\w$]+\.writeTo\(117,\[0,[^\]]*\]\)/, () => ((mutated = true), '0'));
      return out;
    };
    await withRig({ mutate }, async (rig) => {
      assert.ok(mutated, 'the mutation found the keep-on write');
      await rig.until(() => rig.powerChip.stats.cuts > 0, 120000);
      assert.equal(rig.powerChip.stats.cuts, 1, 'the power chip cut the board');
      assert.equal(rig.device.state, 'off');
      const n = rig.readings().length;
      await rig.until(() => false, 180000);
      assert.equal(rig.readings().length, n, 'no readings from a board without power');
    });
  });

  it('T-Call SIM800L: the broker dropping the connection ("0, CLOSED") is followed by a reconnect, and readings go on', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      const client = rig.broker.aedes.clients['station-1'];
      assert.ok(client, 'the broker knows the device');
      client.close();
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 2, 300000), rig.explain('no readings after the drop'));
      const log = rig.device.log.join('\n');
      assert.match(log, /socket: closed by the server/);
      // the drop is seen as the session closing, or (if a publish was in flight) as that publish failing
      assert.match(log, /link: (transport closed|publish failed[^\n]*transport closed)\n.*link: will reconnect in \d+\.\d s/);
      assert.equal(rig.broker.events.filter((e) => e.clientId === 'station-1' && e.outcome === 'accepted').length, 2);
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it("T-Call SIM800L with tls: the modem's TLS 1.0 without SNI works where the broker allows it, and a TLS 1.2 broker refuses it with a clear error", async () => {
    await withRig(
      { config: { broker: { tls: true, port: 8883, tlsStack: 'modem' } }, brokerOptions: { tlsMinVersion: 'TLSv1', requireSni: false } },
      async (rig) => {
        assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no reading over TLS 1.0'));
        const conn = rig.broker.events.find((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
        assert.deepEqual([conn.transport, conn.tlsVersion, conn.servername], ['tls', 'TLSv1', null]);
        assert.match(rig.modem.transcript.text(), /AT\+CIPSSL=1/);
      },
    );
    await withRig({ config: { broker: { tls: true, port: 8883, tlsStack: 'modem' } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.device.log.some((l) => /could not connect/.test(l)), 180000), rig.explain('no connect error'));
      const line = rig.device.log.find((l) => /could not connect/.test(l));
      assert.match(line, /mqtt\.cellpub\.test:8883 with the modem's TLS \(TLS 1\.0, no SNI\)/);
      assert.equal(rig.readings().length, 0);
    });
  });

  it('T-Call SIM800L: diagnostics name the modem revision, ICCID and battery', async () => {
    await withRig({ modemOptions: { iccid: '8945000000000000042' }, powerChipOptions: { batteryLevel: 75 } }, async (rig) => {
      const status = rig.config.topics.status;
      const diags = () =>
        rig.subscriber.messages
          .filter((m) => m.topic === status)
          .map((m) => JSON.parse(m.text))
          .filter((m) => m.diag);
      assert.ok(await rig.until(() => diags().length >= 1, 120000), rig.explain('no diagnostics'));
      const d = diags()[0].diag;
      assert.deepEqual(
        [d.board, d.modem, d.rev, d.iccid, d.bat, d.reg, d.cell],
        ['t-call-sim800l', 'SIMCOM_SIM800L', '1418B05SIM800L24', '8945000000000000042', 75, 1, undefined],
      );
      assert.equal(d.warn, undefined);
    });
  });

  // ---- issue 10: what the SIM800 manuals allow that the simulator used to hide ----

  it("T-Call SIM800L: a GPRS round trip slower than 10 s (the server's ACK, SEND OK with CIPQSEND=0) does not stop readings: quick send (DATA ACCEPT)", async () => {
    await withRig({ modemOptions: { ackDelayMs: 15000 } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no reading with a 15 s ACK round trip'));
      assert.match(rig.modem.transcript.text(), /AT\+CIPQSEND=1/);
      assert.equal(rig.modem.state.qsend, 1);
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it("T-Call SIM800L: CIPSTART answered slowly but within the manual's 75 s still connects", async () => {
    // SIM800 AT manual V1.09 §8.2.2 Max Response Time: "When mode is multi-IP state, the max response time75 seconds."
    await withRig({ modemOptions: { latencyMs: { default: 10, '+CIPSTART': 8000 } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no reading with an 8 s CIPSTART answer'));
      // a firmware that gives up early may still get through on a later try, by a late CONNECT OK
      const gaveUp = rig.device.log.filter((l) => /AT\+CIPSTART.* -> timeout/.test(l));
      assert.deepEqual(gaveUp, [], "the firmware gave up on CIPSTART before the manual's 75 s");
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('T-Call SIM800L: the power-cycle rung really switches the SIM800L off (PWRKEY held longer than the 1.5 s minimum)', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 180000), rig.explain('no first reading'));
      const boots = rig.modem.stats.boots;
      const sent = await rig.toModem(() => rig.subscriber.client.publishAsync(rig.config.topics.command, '{"cmd":"modem-reset"}', { qos: 1 }));
      await sent.result;
      assert.ok(
        await rig.until(() => rig.modem.power.pulses.some((p) => p.whileOn && p.effect === 'power off'), 30000),
        rig.explain(`no PWRKEY power-off: ${JSON.stringify(rig.modem.power.pulses)}`),
      );
      const off = rig.modem.power.pulses.find((p) => p.whileOn && p.effect === 'power off');
      assert.ok(off.lengthMs >= 2000 && off.lengthMs < 33000, `off pulse ${off.lengthMs} ms`);
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 180000), rig.explain('no reading after the power cycle'));
      assert.equal(rig.modem.stats.boots, boots + 1, 'powered up once more');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  /** online, then the link dropped, and the firmware's reconnect waits in a slow CIPSTART */
  async function inSlowCipstart(rig) {
    assert.ok(await rig.until(() => rig.readings().length >= 1, 240000), rig.explain('no first reading'));
    rig.modem.dropLink(0);
    assert.ok(await rig.until(() => rig.modem.state.links[0].state === 'CONNECTING', 60000, 10), rig.explain('no reconnect'));
    await rig.until(() => false, 2000);
  }

  it('T-Call SIM800L: "0, CLOSED" (the context dropped) while CIPSTART is connecting ends the attempt at once, not after 75 s', async () => {
    await withRig({ modemOptions: { cipTiming: { connectMs: 30000 } } }, async (rig) => {
      await inSlowCipstart(rig);
      const t0 = rig.clock.now();
      const failed = () => rig.device.log.some((l) => /error: could not connect/.test(l));
      rig.modem.pdpDeact();
      assert.ok(await rig.until(failed, 5000, 10), rig.explain('the attempt still waits for CIPSTART'));
      assert.ok(rig.clock.now() - t0 < 5000);
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 300000), rig.explain('no reading after the context came back'));
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('T-Call SIM800L: UNDER-VOLTAGE POWER DOWN during CIPSTART ends the attempt at once, and the modem is powered up again', async () => {
    await withRig({ modemOptions: { cbatchk: 1, cipTiming: { connectMs: 30000 } } }, async (rig) => {
      await inSlowCipstart(rig);
      const boots = rig.modem.stats.boots;
      const failed = () => rig.device.log.some((l) => /error: could not connect/.test(l));
      assert.equal(rig.modem.underVoltage(), true);
      assert.ok(await rig.until(failed, 5000, 10), rig.explain('the attempt still waits for CIPSTART'));
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 300000), rig.explain('no reading after the power down'));
      assert.ok(rig.modem.stats.boots > boots, 'powered up again');
      assert.deepEqual(rig.device.errors, []);
    });
  });
});
