// End to end on the shipped bundle: build.mjs output, unmodified, on the Espruino-like runtime,
// driving the simulated A7670G by its pins and UART, publishing through the modem's MQTT stack
// over real TLS to a real broker that (like HiveMQ Cloud) wants SNI, credentials and MQTT 3.1.1.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig, CLUSTER_HOST, TEST_USER } from '../host/testing/rig.mjs';
import { compensate, DATASHEET_CALIB, DATASHEET_RAW } from '../host/sim/i2c/bme280.mjs';

describe('e2e-a76xx.test.mjs', () => {
  const NETWORK_EPOCH = Date.UTC(2026, 10, 23, 9, 0, 0); // what the simulated network says it is at boot
  const modemOptions = { clockUtc: NETWORK_EPOCH, network: { rssi: 23 } };

  async function withRig(opts, fn) {
    const rig = await createRig({ modemOptions, ...opts });
    try {
      rig.start();
      await fn(rig);
    } finally {
      await rig.close();
    }
  }

  it('power-up → registration → TLS+SNI MQTT 3.1.1 → the subscriber receives the exact reading', async () => {
    await withRig({}, async (rig) => {
      const got = await rig.until(() => rig.readings().length >= 1, 90000);
      assert.ok(got, rig.explain('no reading reached the broker'));
      const msg = rig.readings()[0];
      const r = JSON.parse(msg.text);

      // what the reading must say, worked out independently of the firmware
      const env = compensate(DATASHEET_CALIB, DATASHEET_RAW); // datasheet formulas: 25.08 °C, 100653.27 Pa
      const ts = new Date(NETWORK_EPOCH + r.up * 1000);
      const expected = {
        ts: new Date(Math.floor(ts.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        t: Math.round(env.t * 100) / 100,
        p: Math.round(env.p) / 100,
        h: Math.round(env.h * 100) / 100,
        rssi: -113 + 2 * 23,
        up: r.up,
        n: 1, // the first reading this device ever took
      };
      assert.ok(r.up > 11 && r.up < 60, `uptime ${r.up}`);
      // the timestamp comes from network time (NITZ); allow the one second the two clocks may straddle
      assert.ok(Math.abs(Date.parse(r.ts) - Date.parse(expected.ts)) <= 1000, `ts ${r.ts} vs ${expected.ts}`);
      expected.ts = r.ts;
      assert.equal(msg.text, JSON.stringify(expected));
      assert.deepEqual([expected.t, expected.p], [25.08, 1006.53]);
      assert.equal(msg.qos, 1);

      // what the broker saw on the wire
      const conn = rig.broker.events.find((e) => !e.internal && e.outcome === 'accepted');
      assert.ok(conn, rig.explain('the broker saw no accepted connect'));
      assert.equal(conn.servername, CLUSTER_HOST, 'SNI carried the cluster host name');
      assert.equal(conn.protocolVersion, 4, 'MQTT 3.1.1');
      assert.equal(conn.username, TEST_USER.name);
      assert.equal(conn.clientId, 'station-1');

      // no secret in anything the device printed
      assert.ok(!rig.device.log.join('\n').includes(TEST_USER.password), 'the password never reaches the log');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('mutation: without AT+CSSLCFG="enableSNI" the same installation gets no reading through', async () => {
    const mutate = (code) => {
      assert.ok(code.includes('AT+CSSLCFG=\\"enableSNI\\",0,1') || code.includes('AT+CSSLCFG="enableSNI",0,1'), 'the bundle sends enableSNI');
      return code.replace(/AT\+CSSLCFG=\\?"enableSNI\\?",0,1/, 'AT');
    };
    await withRig({ mutate }, async (rig) => {
      const got = await rig.until(() => rig.readings().length >= 1, 60000);
      assert.equal(got, false, 'a reading arrived without SNI');
      assert.ok(
        rig.broker.events.some((e) => e.outcome === 'no-sni'),
        'the broker refused a client without SNI',
      );
      assert.match(rig.device.log.join('\n'), /AT\+CMQTTCONNECT: MQTT error \d+ \([^)]*\): .*SNI/, 'the error names SNI');
    });
  });

  it('mutation: with the modem left at MQTT 3.1 a 3.1.1-only broker refuses the connection', async () => {
    const mutate = (code) => code.replace(/AT\+CMQTTCFG=\\?"version\\?",0,4/, 'AT');
    await withRig({ mutate }, async (rig) => {
      const got = await rig.until(() => rig.readings().length >= 1, 60000);
      assert.equal(got, false, 'a reading arrived over MQTT 3.1');
      const refused = rig.broker.events.find((e) => e.outcome === 'bad-protocol');
      assert.ok(refused, 'the broker refused protocol level 3');
      assert.equal(refused.protocolVersion, 3);
      assert.match(rig.device.log.join('\n'), /MQTT error 27 \(connection refused: unacceptable protocol version\): the broker needs MQTT 3\.1\.1/);
    });
  });

  it('wrong password: the device says which settings to check and never prints the password', async () => {
    await withRig({ config: { broker: { password: 'wrong-password-123' } } }, async (rig) => {
      const said = await rig.until(() => /MQTT error 30/.test(rig.device.log.join('\n')), 60000);
      assert.ok(said, rig.explain('no MQTT error 30'));
      const log = rig.device.log.join('\n');
      assert.match(log, /connection refused: bad user name or password\): check broker.username and broker.password/);
      assert.ok(!log.includes('wrong-password-123'));
      assert.match(log, /link: will reconnect in \d+\.\d s/);
    });
  });

  it('command topic: interval and read commands are obeyed and answered; junk gets an error reply', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      const { command, status } = rig.config.topics;
      const statusMsgs = () => rig.subscriber.messages.filter((m) => m.topic === status).map((m) => m.text);
      // The command travels over real sockets (subscriber → broker → the modem's MQTT client), so
      // wait in real time until the modem has it before letting virtual time run on.
      const send = async (text) => {
        const sent = await rig.toModem(() => rig.subscriber.client.publishAsync(command, text, { qos: 1 }));
        await sent.result; // the broker's PUBACK to the sender
      };
      await send('{"cmd":"interval","s":20}');
      assert.ok(await rig.until(() => statusMsgs().includes('{"ack":"interval","s":20}'), 10000), rig.explain('no ack'));
      // readings now come every 20 s of uptime (their own "up" field says when they were taken)
      const ups = () => rig.readings().map((m) => JSON.parse(m.text).up);
      const ok = await rig.until(() => ups().length >= 3, 45000);
      assert.ok(ok, rig.explain(`readings: ${ups().join(', ')}`));
      const u = ups();
      assert.deepEqual([u[1] - u[0], u[2] - u[1]], [20, 20], `uptimes of the readings: ${u.join(', ')}`);
      const n = rig.readings().length;
      await send('{"cmd":"read"}');
      assert.ok(await rig.until(() => rig.readings().length > n, 5000), 'read now');
      await send('not json');
      await send('{"cmd":"dance"}');
      assert.ok(
        await rig.until(() => statusMsgs().some((t) => /unknown command dance/.test(t)) && statusMsgs().some((t) => /commands are JSON/.test(t)), 10000),
        rig.explain(`error replies: ${statusMsgs().join(' | ')}`),
      );
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('an ESP32 reboot with the modem still on: the CA is not uploaded again and publishing resumes', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no first reading'));
      const uploads = () => (rig.modem.transcript.text().match(/AT\+CCERTDOWN=/g) || []).length;
      assert.equal(uploads(), 1);
      const n = rig.readings().length;
      rig.device.reboot();
      assert.ok(await rig.until(() => rig.readings().length > n, 90000), rig.explain('no reading after the reboot'));
      assert.equal(uploads(), 1, 'the CA file was already on the modem');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('remote care: diagnostics at connect and on request, reboot and modem-reset commands, a known-bad modem firmware named', async () => {
    await withRig({ modemOptions: { ...modemOptions, revision: 'A124B01A7670M7', iccid: '89460000000000000123' } }, async (rig) => {
      const { command, status } = rig.config.topics;
      const statusMsgs = () => rig.subscriber.messages.filter((m) => m.topic === status).map((m) => JSON.parse(m.text));
      const diags = () =>
        statusMsgs()
          .filter((m) => m.diag)
          .map((m) => m.diag);
      assert.ok(await rig.until(() => diags().length >= 1, 90000), rig.explain('no diagnostics at connect'));
      const d = diags()[0];
      assert.deepEqual(
        { ...d, up: 0, free: 0, cell: '' },
        {
          fw: rig.config.version,
          board: 't-a7670x',
          modem: d.modem,
          rev: 'A124B01A7670M7',
          iccid: '89460000000000000123',
          boot: 'power-on, reset button or watchdog',
          up: 0,
          queue: d.queue,
          dropped: 0,
          free: 0,
          rssi: -67,
          reg: 1,
          cell: '',
          warn: d.warn,
        },
      );
      assert.match(d.modem, /^A7670/);
      assert.match(d.cell, /^LTE,Online/);
      assert.ok(d.free > 10000, `free JsVars ${d.free}`);
      assert.match(d.warn, /file-system write bug/);
      assert.match(rig.device.log.join('\n'), /modem: A7670\S* A124B01A7670M7; warning: A7670G firmware with a file-system write bug/);

      const send = async (text) => (await rig.toModem(() => rig.subscriber.client.publishAsync(command, text, { qos: 1 }))).result;
      await send('{"cmd":"diag"}');
      assert.ok(await rig.until(() => diags().length >= 2, 10000), rig.explain('no diagnostics on request'));
      await send('{"cmd":"modem-reset"}');
      assert.ok(
        await rig.until(() => statusMsgs().some((m) => m.ack === 'modem-reset') && diags().length >= 3, 120000),
        rig.explain('no reconnect after modem-reset'),
      );
      assert.match(rig.device.log.join('\n'), /link: a modem reset was asked for[\s\S]*link: power-cycle the modem \(PWRKEY\)/);
      await send('{"cmd":"reboot"}');
      assert.ok(await rig.until(() => diags().some((x) => x.boot === 'reboot command'), 120000), rig.explain('no diagnostics after the reboot'));
      assert.deepEqual(rig.device.errors, []);
    });
  });

  // ---------- issue 10: the CMQTT/SSL timing and order the manual allows ----------

  const cmdLog = (rig) => rig.device.log.join('\n');

  it('issue 10 #3/#13: SSL and MQTT commands answered as slowly as the manual allows (CONNECT OK after 15 s, CSSLCFG 4 s, CCERTLIST 8 s, START 10 s) still connect first time', async () => {
    // per-command answer delays, each within the manual's Max Response Time (CSSLCFG, CCERTLIST,
    // CCERTDOWN 120000 ms, CMQTTSTART 12000 ms) or where it gives none (CMQTTCONNECT: "-")
    const latencyMs = { default: 10, '+CSSLCFG': 4000, '+CCERTLIST': 8000, '+CCERTDOWN': 5000, '+CMQTTSTART': 10000, '+CMQTTCONNECT': 15000 };
    await withRig({ modemOptions: { ...modemOptions, latencyMs } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 600000), rig.explain('no reading'));
      const log = cmdLog(rig);
      assert.doesNotMatch(log, /-> timeout/, "a command given up before the manual's maximum");
      assert.doesNotMatch(log, /attempt failed/);
    });
  });

  it("issue 10 #3: a server that never finishes the TLS handshake: the modem reports 32 (negotiatetime set below the firmware's wait), not a firmware timeout", async () => {
    const net = await import('node:net');
    const held = new Set();
    const hole = net.createServer((s) => {
      held.add(s);
      s.on('error', () => {});
    });
    await new Promise((r) => hole.listen(0, '127.0.0.1', r));
    try {
      await withRig({ modemOptions: { ...modemOptions, dns: { [CLUSTER_HOST]: { host: '127.0.0.1', port: hole.address().port } } } }, async (rig) => {
        assert.ok(await rig.until(() => /AT\+CMQTTCONNECT -> /.test(cmdLog(rig)), 600000), rig.explain('no CONNECT result'));
        const log = cmdLog(rig);
        assert.match(log, /at: AT\+CMQTTCONNECT -> mqtt 32/, "the modem's own code, from +CMQTTCONNECT: 0,32");
        const m = /AT\+CSSLCFG="negotiatetime",0,(\d+)/.exec(rig.modem.transcript.input());
        assert.ok(m && Number(m[1]) >= 10 && Number(m[1]) <= 300, 'negotiatetime set, within 10..300');
      });
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => hole.close(() => r()));
    }
  });

  it('issue 10 #4: after a publish timeout the reconnect waits for +CMQTTDISC: 0,0 before CMQTTREL, and succeeds at once', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, 180000), rig.explain('no first readings'));
      rig.modem.transcript.clear();
      rig.modem.pubTimeout({ count: 1 });
      const n = rig.readings().length;
      const logAt = rig.device.log.length;
      assert.ok(await rig.until(() => rig.readings().length >= n + 3, 600000), rig.explain('no readings after the publish timeout'));
      const out = rig.modem.transcript.output();
      assert.match(rig.modem.transcript.input(), /AT\+CMQTTREL=0/, 'the client was released');
      assert.doesNotMatch(out, /\+CMQTTREL: 0,14/, 'REL sent while the disconnect was still under way');
      const after = rig.device.log.slice(logAt).join('\n');
      assert.doesNotMatch(after, /attempt failed/, after);
    });
  });
});
