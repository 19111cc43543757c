// Tests of the A76xx simulator (host/sim/a76xx). Run:
//   node --import tsx --test test/sim-a76xx*.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { createClock } from '../host/runtime/clock.mjs';
import { createA76xx } from '../host/sim/a76xx/index.mjs';
import { createTestDevice, powerUp, makePki } from '../host/testing/test-device.mjs';
import { board as tA7670 } from '../boards/t-a7670x.ts';
import { board as tSim7670 } from '../boards/t-sim7670g-s3.ts';

describe('sim-a76xx.test.mjs', () => {
  // ---------- helpers ----------

  async function setup(opts = {}, board = tA7670) {
    const clock = createClock();
    const dev = createTestDevice(clock);
    const modem = createA76xx({ clock, device: dev, board, ...opts });
    return { clock, dev, modem, board };
  }

  /** powered, *ATREADY seen, SIM ready and registered, late banner (PB DONE / SMS DONE) out */
  async function booted(opts = {}, board = tA7670) {
    const s = await setup(opts, board);
    await powerUp(s.clock, s.dev, board);
    await s.clock.runFor(11100 + 15000);
    s.dev.host.take();
    return s;
  }

  /** sends a command line and runs the clock until `until` (regex) shows in the output */
  async function at(s, line, { until = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$|\r\n>$/, timeoutMs = 30000 } = {}) {
    s.dev.host.write(line);
    const ok = await s.clock.runUntil(() => until.test(s.dev.host.text()), { timeoutMs, stepMs: 5 });
    const out = s.dev.host.take();
    assert.ok(ok, `no answer matching ${until} to ${JSON.stringify(line)}; got ${JSON.stringify(out)}\n${s.modem.transcript.text()}`);
    return out;
  }

  /** waits for a URC line */
  async function urc(s, re, timeoutMs = 30000) {
    let seen = '';
    const ok = await s.clock.runUntil(() => re.test((seen += s.dev.host.take())), { timeoutMs, stepMs: 5 });
    assert.ok(ok, `no ${re} in ${JSON.stringify(seen)}\n${s.modem.transcript.text()}`);
    return seen;
  }

  async function startAedes(pkiOrNull) {
    const aedes = await Aedes.createBroker();
    const seen = { connects: [], published: [] };
    aedes.preConnect = (client, packet, cb) => {
      seen.connects.push({
        servername: client.conn.servername,
        protocolId: packet.protocolId,
        protocolVersion: packet.protocolVersion,
        clientId: packet.clientId,
        username: packet.username,
        password: packet.password ? packet.password.toString() : undefined,
        keepalive: packet.keepalive,
        clean: packet.clean,
        will: packet.will,
      });
      cb(null, true);
    };
    aedes.on('publish', (packet, client) => {
      if (client) seen.published.push({ topic: packet.topic, payload: Buffer.from(packet.payload).toString('latin1'), qos: packet.qos, retain: packet.retain });
    });
    const server = pkiOrNull ? tls.createServer({ key: pkiOrNull.keyPem, cert: pkiOrNull.certPem }, aedes.handle) : net.createServer(aedes.handle);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
      aedes,
      seen,
      port: server.address().port,
      close: () => new Promise((r) => aedes.close(() => server.close(() => r()))),
    };
  }

  /** a raw MQTT server: CONNACK with `rc`, and PUBACKs only when `puback` */
  async function startRawBroker({ rc = 0, puback = true } = {}) {
    const socks = new Set();
    const server = net.createServer((sock) => {
      socks.add(sock);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => {
        if (p.cmd === 'connect') sock.write(mqttPacket.generate({ cmd: 'connack', returnCode: rc, sessionPresent: false }));
        if (p.cmd === 'publish' && p.qos === 1 && puback) sock.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId }));
      });
      sock.on('data', (d) => parser.parse(d));
      sock.on('error', () => {});
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: server.address().port,
      close: () =>
        new Promise((r) => {
          for (const s of socks) s.destroy();
          server.close(() => r());
        }),
    };
  }

  async function mqttReady(s, { id = 'dev1', type = 0, version } = {}) {
    await at(s, 'AT+CMQTTSTART\r');
    await urc(s, /\+CMQTTSTART: 0\r\n/);
    assert.match(await at(s, `AT+CMQTTACCQ=0,"${id}",${type}\r`), /\r\nOK\r\n$/);
    if (version) assert.match(await at(s, `AT+CMQTTCFG="version",0,${version}\r`), /\r\nOK\r\n$/);
  }

  async function input(s, cmd, data) {
    assert.match(await at(s, `${cmd}\r`), /\r\n>$/);
    return at(s, data);
  }

  // ---------- power ----------

  describe('power by pins', () => {
    it('a valid PWRKEY pulse boots; AT before *ATREADY gets nothing; banner order', async () => {
      const s = await setup();
      await powerUp(s.clock, s.dev, s.board); // POWER_ON high, PWRKEY 100 ms
      s.dev.host.write('AT\r');
      await s.clock.runFor(5000);
      assert.equal(s.dev.host.text(), '', 'no answer while booting');
      await s.clock.runFor(6200);
      assert.match(s.dev.host.take(), /^\r\n\*ATREADY: 1\r\n$/);
      assert.equal(s.modem.power.state, 'on');
      assert.match(await at(s, 'AT\r'), /^AT\r\r\nOK\r\n$/);
      assert.match(await at(s, 'AT+CPIN?\r'), /\+CME ERROR: 13\r\n$/); // early CPIN [LG-AZ-LOG]
      const banner = await urc(s, /SMS DONE\r\n/);
      assert.ok(banner.indexOf('+CPIN: READY') < banner.indexOf('+CGEV: EPS PDN ACT 1'));
      assert.ok(banner.indexOf('+CGEV: ME PDN ACT 8,1') < banner.indexOf('PB DONE'));
      assert.match(await at(s, 'AT+CPIN?\r'), /\+CPIN: READY\r\n\r\nOK\r\n$/);
    });

    it('too short a pulse does nothing', async () => {
      const s = await setup();
      await powerUp(s.clock, s.dev, s.board, { pulseMs: 30 });
      await s.clock.runFor(20000);
      s.dev.host.write('AT\r');
      await s.clock.runFor(1000);
      assert.equal(s.dev.host.text(), '');
      assert.equal(s.modem.power.state, 'off');
      assert.equal(s.modem.power.pulses.at(-1).effect, 'none');
    });

    it('PWRKEY pulse with POWER_ON low does nothing; POWER_ON dropping is an instant off', async () => {
      const s = await setup();
      const pk = s.board.pwrkey.pin;
      s.dev.pins.set(pk, 1); // asserted through the transistor, rail still off
      await s.clock.runFor(200);
      s.dev.pins.set(pk, 0);
      await s.clock.runFor(15000);
      assert.equal(s.modem.power.state, 'off');
      assert.equal(s.dev.host.text(), '');
      await powerUp(s.clock, s.dev, s.board);
      await s.clock.runFor(11200);
      assert.equal(s.modem.power.state, 'on');
      s.dev.pins.set(s.board.powerOn, 0);
      assert.equal(s.modem.power.state, 'off');
      assert.equal(s.modem.stats.powerCuts, 1);
      s.dev.host.take();
      s.dev.host.write('AT\r');
      await s.clock.runFor(500);
      assert.equal(s.dev.host.text(), '');
    });

    it('PWRKEY held 2.5 s while on powers off; RESET held 2 s restarts (banner again)', async () => {
      const s = await booted({}, tSim7670); // board without POWER_ON, RESET active low
      const pk = s.board.pwrkey.pin;
      const rst = s.board.reset.pin;
      s.dev.pins.set(rst, 0);
      await s.clock.runFor(1000);
      s.dev.pins.set(rst, 1); // 1 s: too short
      await s.clock.runFor(100);
      assert.equal(s.modem.power.state, 'on');
      s.dev.pins.set(rst, 0);
      await s.clock.runFor(2600);
      s.dev.pins.set(rst, 1);
      assert.equal(s.modem.power.state, 'booting');
      await s.clock.runFor(11200);
      assert.match(s.dev.host.take(), /\*ATREADY: 1/);
      assert.equal(s.modem.stats.boots, 2);
      s.dev.pins.set(pk, 1);
      await s.clock.runFor(3000);
      s.dev.pins.set(pk, 0);
      await s.clock.runFor(2500);
      assert.equal(s.modem.power.state, 'off');
    });
  });

  // ---------- framing ----------

  describe('framing', () => {
    it('echo is the exact command bytes incl. CR until ATE0; case and spaces', async () => {
      const s = await booted();
      assert.equal(await at(s, 'AT+CSQ\r'), 'AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'ATE0\r'), 'ATE0\r\r\nOK\r\n');
      assert.equal(await at(s, 'at+csq\r'), '\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT + CEREG?\r'), '\r\n+CEREG: 0,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+NOSUCH\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'ATE1\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
    });

    it('CME errors follow AT+CMEE 0/1/2 (default 1)', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CMEE?\r'), '\r\n+CMEE: 1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CFUN=6\r'), '\r\n+CME ERROR: 3\r\n');
      await at(s, 'AT+CMEE=2\r');
      assert.equal(await at(s, 'AT+CFUN=6\r'), '\r\n+CME ERROR: operation not allowed\r\n');
      await at(s, 'AT+CMEE=0\r');
      assert.equal(await at(s, 'AT+CFUN=6\r'), '\r\nERROR\r\n');
    });

    it('a URC lands inside another command response (PB DONE between echo and OK)', async () => {
      const s = await setup({ lateBannerMs: 8000, latencyMs: { default: 10, '+CSQ': 1500 } });
      await powerUp(s.clock, s.dev, s.board);
      await s.clock.runFor(11100 + 7000);
      s.dev.host.take();
      const out = await at(s, 'AT+CSQ\r');
      assert.match(out, /^AT\+CSQ\r\r\nPB DONE\r\n\r\nSMS DONE\r\n\r\n\+CSQ: \d+,\d+\r\n\r\nOK\r\n$/);
    });

    it('registration takes registrationMs; CREG=1 URCs; roaming and the SMS-only quirk', async () => {
      const s = await setup({ network: { regStat: 6, eregStat: 1, registrationMs: 4000 } });
      await powerUp(s.clock, s.dev, s.board);
      await s.clock.runFor(11200);
      await at(s, 'ATE0\r');
      await at(s, 'AT+CREG=1\r');
      await s.clock.runFor(2500);
      assert.match(await at(s, 'AT+CEREG?\r'), /\+CEREG: 0,2\r\n/);
      const u = await urc(s, /\+CREG: 6\r\n/);
      assert.doesNotMatch(u, /\+CEREG/); // CEREG URCs were not enabled
      assert.match(await at(s, 'AT+CREG?\r'), /\+CREG: 1,6\r\n/);
      assert.match(await at(s, 'AT+CEREG?\r'), /\+CEREG: 0,1\r\n/);
      const r = await booted({ network: { regStat: 5 } });
      await at(r, 'ATE0\r');
      assert.match(await at(r, 'AT+CREG?\r'), /\+CREG: 0,5\r\n/);
    });

    it('CNTP zone in quarter hours (default 32), CCLK with zone, CTZU persists', async () => {
      const s = await booted({ clockUtc: () => Date.UTC(2024, 7, 16, 10, 0, 0) }); // network time frozen at 10:00:00Z
      await at(s, 'ATE0\r');
      await at(s, 'AT+CNTP="pool.ntp.org"\r');
      assert.match(await at(s, 'AT+CNTP?\r'), /\+CNTP: "pool.ntp.org",32\r\n/);
      assert.equal(await at(s, 'AT+CNTP\r'), '\r\nOK\r\n');
      await urc(s, /\+CNTP: 0\r\n/);
      assert.match(await at(s, 'AT+CCLK?\r'), /\+CCLK: "24\/08\/16,18:00:0\d\+32"\r\n/);
      await at(s, 'AT+CNTP="pool.ntp.org",0\r');
      await at(s, 'AT+CNTP\r');
      await urc(s, /\+CNTP: 0\r\n/);
      assert.match(await at(s, 'AT+CCLK?\r'), /\+CCLK: "24\/08\/16,10:00:\d\d\+00"\r\n/);
      await at(s, 'AT+CTZU=1\r');
      await at(s, 'AT+CRESET\r');
      await s.clock.runFor(20000);
      s.dev.host.take();
      assert.match(await at(s, 'AT+CTZU?\r'), /\+CTZU: 1\r\n/);
    });
  });

  // ---------- SSL files and prompts ----------

  describe('data prompts', () => {
    it('CCERTDOWN takes exactly <len> bytes, a trailing CRLF is ignored, files survive reboot', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CCERTDOWN="ca.pem",10\r'), '\r\n>');
      s.dev.host.write('01234');
      await s.clock.runFor(200);
      assert.equal(s.dev.host.text(), '', 'still waiting for 5 more bytes');
      assert.equal(await at(s, '56789\r\n'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CCERTLIST\r'), '\r\n+CCERTLIST: "ca.pem"\r\n\r\nOK\r\n');
      assert.equal(s.modem.flash.files.get('ca.pem'), '0123456789');
      assert.equal(await at(s, 'AT+CCERTDOWN="bad.txt",10\r'), '\r\nERROR\r\n');
      await at(s, 'AT+CSSLCFG="cacert",0,"ca.pem"\r');
      assert.match(await at(s, 'AT+CSSLCFG=0\r'), /\+CSSLCFG: 0,4,0,1,300,"ca.pem","","","",0\r\n/);
      await at(s, 'AT+CRESET\r');
      await s.clock.runFor(20000);
      s.dev.host.take();
      await at(s, 'ATE0\r');
      assert.match(await at(s, 'AT+CCERTLIST\r'), /"ca.pem"/);
      assert.match(await at(s, 'AT+CSSLCFG=0\r'), /\+CSSLCFG: 0,4,0,1,300,"","","","",0\r\n/, 'contexts are not saved');
      assert.equal(await at(s, 'AT+CCERTDELE="ca.pem"\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CCERTDELE="ca.pem"\r'), '\r\nERROR\r\n');
    });
  });

  // ---------- CMQTT error shapes ----------

  describe('CMQTT error shapes (modem-facts §A.4)', () => {
    it('before START: bare ERROR; START twice: ERROR; REL never acquired: +CMQTTREL: 0,20 + ERROR', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CMQTTACCQ=0,"x",0\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTREL=0\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTACCQ=?\r'), '\r\n+CMQTTACCQ: (0-1),(1-128)[,(0-1)]\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTSTART\r'), '\r\nOK\r\n');
      assert.equal(await urc(s, /\+CMQTTSTART: 0\r\n/), '\r\n+CMQTTSTART: 0\r\n');
      assert.equal(await at(s, 'AT+CMQTTSTART\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTREL=0\r'), '\r\n+CMQTTREL: 0,20\r\n\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTACCQ=0,"x",1\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTACCQ=0,"x",1\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTACCQ?\r'), '\r\n+CMQTTACCQ: 0,"x",1\r\n+CMQTTACCQ: 1,"",0\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTSTOP\r'), '\r\n+CMQTTSTOP: 21\r\n\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTPUB=0,1,60\r'), '\r\n+CMQTTPUB: 0,11\r\n\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTCFG="version",0,5\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTSSLCFG=0,0\r'), '\r\nOK\r\n');
      // sync error line + ERROR: ssl:// is an invalid parameter [field log a]; it clears SSLCFG
      assert.equal(await at(s, 'AT+CMQTTCONNECT=0,"ssl://h.example:8883",60,1\r'), '\r\n+CMQTTCONNECT: 0,12\r\n\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTSSLCFG?\r'), '\r\n+CMQTTSSLCFG: 0,\r\n+CMQTTSSLCFG: 1,\r\n\r\nOK\r\n');
      // bare ERROR: empty password is out of range 1..256 [field log b]
      assert.equal(await at(s, 'AT+CMQTTCONNECT=0,"tcp://h.example:8883",60,1,"u",""\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTREL=0\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTSTOP\r'), '\r\nOK\r\n');
      await urc(s, /\+CMQTTSTOP: 0\r\n/);
      assert.equal(await at(s, 'AT+CMQTTSTOP\r'), '\r\nERROR\r\n');
    });

    it('async error URCs: unknown host 25, refused 3, CONNACK refused 31, PUB timeout 17', async () => {
      const raw5 = await startRawBroker({ rc: 5 });
      const silent = await startRawBroker({ rc: 0, puback: false });
      const closed = await startRawBroker();
      await closed.close(); // port now refuses
      try {
        const s = await booted({
          dns: {
            'auth.test': { host: '127.0.0.1', port: raw5.port },
            'silent.test': { host: '127.0.0.1', port: silent.port },
            'down.test': { host: '127.0.0.1', port: closed.port },
          },
        });
        await at(s, 'ATE0\r');
        await mqttReady(s, { version: 4 });
        assert.equal(await at(s, 'AT+CMQTTCONNECT=0,"tcp://nowhere.test:1883",60,1\r'), '\r\nOK\r\n');
        assert.equal(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), '\r\n+CMQTTCONNECT: 0,25\r\n');
        await at(s, 'AT+CMQTTCONNECT=0,"tcp://down.test:1883",60,1\r');
        assert.match(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), /\+CMQTTCONNECT: 0,3\r\n/);
        await at(s, 'AT+CMQTTCONNECT=0,"tcp://auth.test:1883",60,1,"u","p"\r');
        assert.match(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), /\+CMQTTCONNECT: 0,31\r\n/);
        await at(s, 'AT+CMQTTCONNECT=0,"tcp://silent.test",60,1\r');
        assert.match(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), /\+CMQTTCONNECT: 0,0\r\n/);
        await input(s, 'AT+CMQTTTOPIC=0,1', 't');
        const t0 = s.clock.now();
        assert.equal(await at(s, 'AT+CMQTTPUB=0,1,5\r'), '\r\nOK\r\n');
        assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/, 60000), '\r\n+CMQTTPUB: 0,17\r\n');
        assert.ok(s.clock.now() - t0 >= 5000, 'timeout after pub_timeout seconds');
      } finally {
        await raw5.close();
        await silent.close();
      }
    });
  });

  // ---------- real broker: TLS, SNI, protocol level, chunks ----------

  describe('CMQTT against a real broker', () => {
    let pki;
    let tlsBroker;
    let tcpBroker;
    before(async () => {
      pki = makePki(['broker.test']);
      tlsBroker = await startAedes(pki);
      tcpBroker = await startAedes(null);
    });
    after(async () => {
      await tlsBroker.close();
      await tcpBroker.close();
    });

    async function tlsConnect({ sni, authmode = 1, host = 'broker.test' }) {
      const s = await booted({
        dns: { 'broker.test': { host: '127.0.0.1', port: tlsBroker.port }, 'other.test': { host: '127.0.0.1', port: tlsBroker.port } },
      });
      await at(s, 'ATE0\r');
      await at(s, 'AT+CMQTTSTART\r');
      await urc(s, /\+CMQTTSTART: 0/);
      const pem = pki.caPem.replace(/\n/g, '\r\n');
      assert.equal(await input(s, `AT+CCERTDOWN="ca.pem",${pem.length}`, pem + '\r\n'), '\r\nOK\r\n');
      for (const c of [
        'AT+CSSLCFG="cacert",0,"ca.pem"',
        'AT+CSSLCFG="sslversion",0,4',
        `AT+CSSLCFG="authmode",0,${authmode}`,
        `AT+CSSLCFG="enableSNI",0,${sni}`,
        'AT+CMQTTSSLCFG=0,0',
        'AT+CMQTTACCQ=0,"tls-dev",1',
        'AT+CMQTTCFG="version",0,4',
      ]) {
        assert.equal(await at(s, c + '\r'), '\r\nOK\r\n', c);
      }
      assert.equal(await at(s, `AT+CMQTTCONNECT=0,"tcp://${host}:8883",60,1,"user","secret"\r`), '\r\nOK\r\n');
      return { s, result: await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/) };
    }

    it('TLS with SNI on: broker sees the servername; QoS1 publish answered after PUBACK', async () => {
      const n = tlsBroker.seen.connects.length;
      const { s, result } = await tlsConnect({ sni: 1 });
      assert.equal(result, '\r\n+CMQTTCONNECT: 0,0\r\n');
      const c = tlsBroker.seen.connects[n];
      assert.equal(c.servername, 'broker.test');
      assert.equal(c.protocolVersion, 4);
      assert.equal(c.username, 'user');
      assert.equal(c.password, 'secret');
      assert.equal(c.keepalive, 60);
      assert.equal(c.clean, true);
      await input(s, 'AT+CMQTTTOPIC=0,9', 'cell/temp');
      assert.equal(await input(s, 'AT+CMQTTPAYLOAD=0,4', '21.5'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTPUB=0,1,60\r'), '\r\nOK\r\n');
      assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/), '\r\n+CMQTTPUB: 0,0\r\n');
      assert.deepEqual(tlsBroker.seen.published.at(-1), { topic: 'cell/temp', payload: '21.5', qos: 1, retain: false });
      // topic and payload are cleared after PUB (§18.2.6)
      assert.equal(await at(s, 'AT+CMQTTPUB=0,1,60\r'), '\r\n+CMQTTPUB: 0,18\r\n\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), '\r\n+CMQTTDISC: 0,0\r\n+CMQTTDISC: 1,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTDISC=0,120\r'), '\r\nOK\r\n');
      assert.equal(await urc(s, /\+CMQTTDISC: 0,\d+\r\n/), '\r\n+CMQTTDISC: 0,0\r\n');
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), '\r\n+CMQTTDISC: 0,1\r\n+CMQTTDISC: 1,1\r\n\r\nOK\r\n');
    });

    it('TLS with SNI off: no servername reaches the broker', async () => {
      const n = tlsBroker.seen.connects.length;
      const { result } = await tlsConnect({ sni: 0 });
      assert.equal(result, '\r\n+CMQTTCONNECT: 0,0\r\n');
      assert.ok(!tlsBroker.seen.connects[n].servername, `servername ${tlsBroker.seen.connects[n].servername}`);
    });

    it('TLS verification: a name not in the certificate fails with 34 when SNI is on', async () => {
      const { result } = await tlsConnect({ sni: 1, host: 'other.test' });
      assert.equal(result, '\r\n+CMQTTCONNECT: 0,34\r\n');
    });

    it('TLS to a plain TCP port fails the handshake (32)', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: tcpBroker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { type: 1, version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test:1883",60,1\r');
      assert.equal(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), '\r\n+CMQTTCONNECT: 0,32\r\n');
    });

    it('protocol level: default 3 (MQIsdp), CFG version 4 -> MQTT 3.1.1; will passed through', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: tcpBroker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'v3dev' });
      await input(s, 'AT+CMQTTWILLTOPIC=0,4', 'gone');
      await input(s, 'AT+CMQTTWILLMSG=0,3,1', 'bye');
      const n = tcpBroker.seen.connects.length;
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test:1883",30,0\r');
      assert.equal(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/), '\r\n+CMQTTCONNECT: 0,0\r\n');
      const c3 = tcpBroker.seen.connects[n];
      assert.equal(c3.protocolVersion, 3);
      assert.equal(c3.protocolId, 'MQIsdp');
      assert.equal(c3.clean, false);
      assert.equal(c3.will.topic, 'gone');
      assert.equal(Buffer.from(c3.will.payload).toString(), 'bye');
      assert.equal(c3.will.qos, 1);
      await at(s, 'AT+CMQTTDISC=0,60\r');
      await urc(s, /\+CMQTTDISC: 0,0/);
      await at(s, 'AT+CMQTTREL=0\r');
      await at(s, 'AT+CMQTTACCQ=0,"v4dev",0\r');
      await at(s, 'AT+CMQTTCFG="version",0,4\r');
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test:1883",30,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      const c4 = tcpBroker.seen.connects.at(-1);
      assert.equal(c4.clientId, 'v4dev');
      assert.equal(c4.protocolVersion, 4);
      assert.equal(c4.protocolId, 'MQTT');
    });

    it('incoming message split into rxChunk pieces; CONNLOST on drop', async () => {
      const s = await booted({ rxChunk: 100, dns: { 'plain.test': { host: '127.0.0.1', port: tcpBroker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'rx', version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      const topic = 'devices/rx/' + 'd'.repeat(139); // 150 bytes
      assert.equal(await at(s, `AT+CMQTTSUB=0,${topic.length},1\r`), '\r\n>');
      assert.equal(await at(s, topic), '\r\nOK\r\n');
      assert.equal(await urc(s, /\+CMQTTSUB: 0,\d+\r\n/), '\r\n+CMQTTSUB: 0,0\r\n');
      const payload = Array.from({ length: 250 }, (_, i) => String.fromCharCode(48 + (i % 40))).join('');
      const had = s.modem.stats.rxMessages;
      tcpBroker.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false }, () => {});
      // the message travels over a real socket: wait (real time) until the modem has it, so virtual
      // time does not run out first when the machine is busy
      for (const until = Date.now() + 5000; s.modem.stats.rxMessages === had && Date.now() < until;) await new Promise((r) => setTimeout(r, 2));
      const rx = await urc(s, /\+CMQTTRXEND: 0\r\n/);
      const expected =
        '\r\n+CMQTTRXSTART: 0,150,250\r\n' +
        `+CMQTTRXTOPIC: 0,100\r\n${topic.slice(0, 100)}\r\n` +
        `+CMQTTRXTOPIC: 0,50\r\n${topic.slice(100)}\r\n` +
        `+CMQTTRXPAYLOAD: 0,100\r\n${payload.slice(0, 100)}\r\n` +
        `+CMQTTRXPAYLOAD: 0,100\r\n${payload.slice(100, 200)}\r\n` +
        `+CMQTTRXPAYLOAD: 0,50\r\n${payload.slice(200)}\r\n` +
        '+CMQTTRXEND: 0\r\n';
      assert.equal(rx, expected);
      assert.ok(s.modem.dropMqtt(1));
      assert.equal(await urc(s, /\+CMQTTCONNLOST: 0,\d\r\n/), '\r\n+CMQTTCONNLOST: 0,1\r\n');
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), '\r\n+CMQTTDISC: 0,1\r\n+CMQTTDISC: 1,1\r\n\r\nOK\r\n');
    });

    it('loseNetwork: CONNLOST cause 3, +CMQTTNONET, START needed again', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: tcpBroker.port } } });
      await at(s, 'ATE0\r');
      await at(s, 'AT+CEREG=1\r');
      await mqttReady(s, { id: 'nonet', version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      s.modem.loseNetwork();
      const u = await urc(s, /\+CMQTTNONET\r\n/);
      assert.match(u, /\+CEREG: 0\r\n[\s\S]*\+CMQTTCONNLOST: 0,3\r\n[\s\S]*\+CMQTTNONET/);
      assert.equal(await at(s, 'AT+CMQTTACCQ=0,"again",0\r'), '\r\nERROR\r\n');
      s.modem.restoreNetwork();
      await urc(s, /\+CEREG: 1\r\n/);
      await at(s, 'AT+CMQTTSTART\r');
      assert.match(await urc(s, /\+CMQTTSTART: \d+/), /\+CMQTTSTART: 0/);
    });
  });

  // ---------- stats ----------

  describe('stats', () => {
    it('idleGapMs counts the time the modem waits for the host, not its own work', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      const g0 = s.modem.stats.idleGapMs;
      await s.clock.runFor(3000); // the host thinks for 3 s
      await at(s, 'AT+CMQTTSTART\r'); // OK + a 200 ms async op: not idle
      await urc(s, /\+CMQTTSTART: 0/);
      const g1 = s.modem.stats.idleGapMs;
      assert.ok(g1 - g0 >= 3000 && g1 - g0 < 3100, `gap ${g1 - g0}`);
      s.dev.host.write('AT\r'); // immediately after the URC: no gap
      await s.clock.runFor(50);
      assert.ok(s.modem.stats.idleGapMs - g1 < 30, `gap ${s.modem.stats.idleGapMs - g1}`);
      assert.ok(s.modem.stats.bytesIn > 0 && s.modem.stats.bytesOut > 0);
    });
  });

  // ---------- faults (host/testing/faults.mjs uses these) ----------

  describe('faults', () => {
    let broker;
    before(async () => {
      broker = await startAedes(null);
    });
    after(async () => {
      await broker.close();
    });

    async function connected(opts = {}) {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: broker.port } }, ...opts });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: `f${Math.floor(Math.random() * 1e6)}`, version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      return s;
    }
    async function publish(s, payload) {
      await input(s, 'AT+CMQTTTOPIC=0,6', 'f/test');
      await input(s, `AT+CMQTTPAYLOAD=0,${payload.length}`, payload);
      return at(s, 'AT+CMQTTPUB=0,1,60\r');
    }

    it('reboot(): silent while booting, then *ATREADY: 1 and the banner; echo back on, MQTT gone, flash kept', async () => {
      const s = await connected();
      assert.equal(await at(s, 'AT+CTZU=1\r'), '\r\nOK\r\n');
      assert.equal(s.modem.reboot(), true);
      assert.equal(s.modem.power.state, 'booting');
      s.dev.host.write('AT\r'); // lost: the UART is not up yet
      await s.clock.runFor(11000);
      assert.equal(s.dev.host.take(), '', 'nothing while it boots (no CONNLOST either)');
      const banner = await urc(s, /SMS DONE\r\n/);
      assert.match(banner, /^\r\n\*ATREADY: 1\r\n\r\n\+CPIN: READY\r\n\r\n\+CGEV: EPS PDN ACT 1\r\n\r\n\+CGEV: ME PDN ACT 8,1\r\n[\s\S]*PB DONE/);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n', 'echo is on again');
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), 'AT+CMQTTDISC?\r\r\nERROR\r\n', 'the MQTT service is stopped');
      assert.equal(await at(s, 'AT+CTZU?\r'), 'AT+CTZU?\r\r\n+CTZU: 1\r\n\r\nOK\r\n', 'non-volatile settings kept');
      assert.equal(s.modem.stats.spontaneousReboots, 1);
      s.modem.cutSupply();
      assert.equal(s.modem.reboot(), false, 'nothing to reboot when off');
    });

    it('inject(): noise now, a URC inside the next answer (before its OK, or cutting a line), only for the named command', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      s.modem.inject('\x00\xff#');
      assert.equal(s.dev.host.take(), '\x00\xff#', 'noise reaches the host at once, no line end');
      s.modem.inject('\r\n+CREG: 2\r\n', { into: 'AT+CSQ' });
      assert.equal(await at(s, 'AT+CPIN?\r'), '\r\n+CPIN: READY\r\n\r\nOK\r\n', 'another command is not touched');
      assert.equal(s.modem.pendingInjections, 1);
      assert.equal(await at(s, 'AT+CSQ\r'), '\r\n+CSQ: 20,99\r\n\r\n+CREG: 2\r\n\r\nOK\r\n');
      s.modem.inject('~~', { into: true, at: 'middle' });
      const out = await at(s, 'AT+CSQ\r');
      const plain = '\r\n+CSQ: 20,99\r\n\r\nOK\r\n';
      assert.equal(out, plain.slice(0, plain.length >> 1) + '~~' + plain.slice(plain.length >> 1));
      s.modem.inject('\r\n+CSQ: 99,99\r\n', { into: /^\+CPIN$/, at: 'start' });
      assert.equal(await at(s, 'AT+CPIN?\r'), '\r\n+CSQ: 99,99\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n');
      assert.ok(s.modem.stats.injected > 0);
    });

    it('pubTimeout(): OK, then +CMQTTPUB: 0,17 only after pub_timeout; the PUBLISH is lost (or reaches the broker with delivered); then normal again', async () => {
      const s = await connected();
      const before = broker.seen.published.length;
      s.modem.pubTimeout({ count: 1 });
      assert.equal(await publish(s, 'lost'), '\r\nOK\r\n');
      await s.clock.runFor(59000);
      assert.equal(s.dev.host.take(), '', 'no result before pub_timeout');
      assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/, 2000), '\r\n+CMQTTPUB: 0,17\r\n');
      assert.equal(broker.seen.published.length, before, 'the broker never saw it');
      assert.equal(await publish(s, 'fine'), '\r\nOK\r\n');
      assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/), '\r\n+CMQTTPUB: 0,0\r\n');
      s.modem.pubTimeout({ count: 1, delivered: true });
      await publish(s, 'acklost');
      assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/, 61000), '\r\n+CMQTTPUB: 0,17\r\n');
      assert.deepEqual(
        broker.seen.published.slice(before).map((p) => p.payload),
        ['fine', 'acklost'],
        'delivered: the broker has it, the modem says timeout',
      );
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), '\r\n+CMQTTDISC: 0,0\r\n+CMQTTDISC: 1,1\r\n\r\nOK\r\n', 'still connected');
      s.modem.pubTimeout({ count: Infinity });
      s.modem.pubTimeout({ count: 0 }); // cancelled
      await publish(s, 'again');
      assert.equal(await urc(s, /\+CMQTTPUB: 0,\d+\r\n/), '\r\n+CMQTTPUB: 0,0\r\n');
    });

    it('cutSupply(): off at once whatever the pins say; restoreSupply(): stays off until PWRKEY', async () => {
      const s = await booted();
      s.modem.cutSupply();
      assert.equal(s.modem.power.state, 'off');
      assert.equal(s.modem.stats.powerCuts, 1);
      s.dev.host.write('AT\r');
      await s.clock.runFor(500);
      assert.equal(s.dev.host.take(), '');
      await powerUp(s.clock, s.dev, s.board);
      await s.clock.runFor(12000);
      assert.equal(s.modem.power.state, 'off', 'PWRKEY does nothing without a supply');
      s.modem.restoreSupply();
      await s.clock.runFor(15000);
      assert.equal(s.modem.power.state, 'off', 'the supply alone does not start it');
      await powerUp(s.clock, s.dev, s.board);
      await s.clock.runFor(11200);
      assert.equal(s.modem.power.state, 'on');
      assert.match(s.dev.host.take(), /\*ATREADY: 1/);
    });

    it('loseNetwork(): no coverage survives a reboot (searching, CSQ 99,99) until restoreNetwork()', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      await at(s, 'AT+CEREG=1\r');
      s.modem.loseNetwork({ stat: 2 });
      assert.equal(await urc(s, /\+CEREG: 2\r\n/), '\r\n+CEREG: 2\r\n');
      assert.equal(await at(s, 'AT+CSQ\r'), '\r\n+CSQ: 99,99\r\n\r\nOK\r\n');
      s.modem.reboot();
      const banner = await urc(s, /SMS DONE\r\n/);
      assert.doesNotMatch(banner, /\+CGEV/, 'no bearer without coverage');
      assert.equal(await at(s, 'AT+CEREG?\r'), 'AT+CEREG?\r\r\n+CEREG: 0,2\r\n\r\nOK\r\n', 'still searching after the reboot');
      s.modem.restoreNetwork();
      assert.match(await urc(s, /\+CGEV: ME PDN ACT 8,1\r\n/), /\+CGEV: EPS PDN ACT 1/);
      assert.equal(await at(s, 'AT+CEREG?\r'), 'AT+CEREG?\r\r\n+CEREG: 0,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CSQ\r'), 'AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n');
    });

    it('hang(Infinity): nothing answers until a RESET pulse restarts the modem', async () => {
      const s = await booted({}, tSim7670); // RESET active low
      s.modem.hang(Infinity);
      assert.equal(s.modem.hung, true);
      s.dev.host.write('AT\r');
      await s.clock.runFor(60000);
      assert.equal(s.dev.host.take(), '');
      s.dev.pins.set(s.board.reset.pin, 0);
      await s.clock.runFor(2600);
      s.dev.pins.set(s.board.reset.pin, 1);
      assert.equal(s.modem.hung, false, 'a reset ends the hang');
      await s.clock.runFor(11200);
      assert.match(s.dev.host.take(), /^\r\n\*ATREADY: 1\r\n$/, 'what it held before the reset is gone');
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
    });
  });

  // ---------- issue 10: CMQTT / SSL as the manual says ----------

  describe('issue 10: CMQTT and SSL held to the manual', () => {
    let broker;
    let blackHole;
    const held = new Set();
    before(async () => {
      broker = await startAedes(null);
      // takes the TCP connection and never says a word: a TLS handshake that never finishes
      blackHole = net.createServer((sock) => {
        held.add(sock);
        sock.on('error', () => {});
      });
      await new Promise((r) => blackHole.listen(0, '127.0.0.1', r));
    });
    after(async () => {
      await broker.close();
      for (const s of held) s.destroy();
      await new Promise((r) => blackHole.close(() => r()));
    });

    it('CCERTDOWN: a packet over 3072 bytes is refused (ERROR, nothing stored); the same file in packets of at most 3072 is taken', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      const pem = 'A'.repeat(3308);
      assert.equal(await at(s, `AT+CCERTDOWN="big.pem",${pem.length}\r`), '\r\n>');
      assert.equal(await at(s, pem), '\r\nERROR\r\n', 'one 3308-byte burst');
      assert.doesNotMatch(await at(s, 'AT+CCERTLIST\r'), /big\.pem/);
      assert.equal(await at(s, `AT+CCERTDOWN="big.pem",${pem.length}\r`), '\r\n>');
      s.dev.host.write(pem.slice(0, 3072));
      await s.clock.runFor(300 + 50); // 3072 bytes take 267 ms at 115200 baud, then the line is idle
      assert.equal(await at(s, pem.slice(3072)), '\r\nOK\r\n', '3072 + 236 bytes with a pause');
      assert.equal(s.modem.flash.files.get('big.pem'), pem);
      // two writes back to back are one burst on the line
      assert.equal(await at(s, `AT+CCERTDOWN="b2.pem",${pem.length}\r`), '\r\n>');
      s.dev.host.write(pem.slice(0, 3000));
      await s.clock.runFor(5);
      assert.equal(await at(s, pem.slice(3000)), '\r\nERROR\r\n');
    });

    it('CMQTTREL while a CMQTTDISC is still under way: +CMQTTREL: 0,14 + ERROR; after +CMQTTDISC: 0,0 it is taken', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: broker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'rel-race', version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      assert.equal(await at(s, 'AT+CMQTTDISC=0,60\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTREL=0\r'), '\r\n+CMQTTREL: 0,14\r\n\r\nERROR\r\n');
      await urc(s, /\+CMQTTDISC: 0,0\r\n/);
      assert.equal(await at(s, 'AT+CMQTTREL=0\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CMQTTSTOP\r'), '\r\nOK\r\n');
    });

    it('CMQTTCONNECT: the OK may come late, the result always after it; a TLS handshake that never finishes ends after negotiatetime with 32', async () => {
      const s = await booted({
        latencyMs: { default: 10, '+CMQTTCONNECT': 15000 },
        dns: { 'plain.test': { host: '127.0.0.1', port: broker.port }, 'hole.test': { host: '127.0.0.1', port: blackHole.address().port } },
      });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'late-ok', version: 4 });
      const t0 = s.clock.now();
      const out = await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r', { until: /\+CMQTTCONNECT: 0,\d+\r\n/ });
      assert.match(out, /^\r\nOK\r\n\r\n\+CMQTTCONNECT: 0,0\r\n$/);
      assert.ok(s.clock.now() - t0 >= 15000, 'OK after the latency');
      await at(s, 'AT+CMQTTDISC=0,60\r');
      await urc(s, /\+CMQTTDISC: 0,0/);
      await at(s, 'AT+CMQTTREL=0\r');
      await at(s, 'AT+CMQTTACCQ=0,"hole",1\r');
      assert.equal(await at(s, 'AT+CSSLCFG="negotiatetime",0,9\r'), '\r\nERROR\r\n', 'range 10..300');
      assert.equal(await at(s, 'AT+CSSLCFG="negotiatetime",0,20\r'), '\r\nOK\r\n');
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://hole.test:8883",60,1\r');
      const t1 = s.clock.now();
      assert.equal(await urc(s, /\+CMQTTCONNECT: 0,\d+\r\n/, 400000), '\r\n+CMQTTCONNECT: 0,32\r\n');
      const took = s.clock.now() - t1;
      assert.ok(took >= 20000 && took < 21000, `reported after ${took} ms, not after negotiatetime`);
    });

    it('after +CMQTTNONET the service must be started again: CONNECT before AT+CMQTTSTART is a bare ERROR', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: broker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'nonet2', version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      s.modem.networkDetach();
      const u = await urc(s, /\+CMQTTNONET\r\n/);
      assert.match(u, /\+CGEV: NW DETACH\r\n[\s\S]*\+CMQTTCONNLOST: 0,3\r\n[\s\S]*\+CMQTTNONET/);
      assert.equal(await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r'), '\r\nERROR\r\n');
      assert.match(await urc(s, /\+CGEV: ME PDN ACT 8,1\r\n/), /\+CGEV: EPS PDN ACT 1/, 'attached again by itself');
      await mqttReady(s, { id: 'nonet2', version: 4 });
      assert.equal(await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r'), '\r\nOK\r\n');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
    });

    it('+CGEV: NW PDN DEACT 8 leaves the MQTT connection alone; AT+CFUN=0 reports +CGEV: ME DETACH', async () => {
      const s = await booted({ dns: { 'plain.test': { host: '127.0.0.1', port: broker.port } } });
      await at(s, 'ATE0\r');
      await mqttReady(s, { id: 'cid8', version: 4 });
      await at(s, 'AT+CMQTTCONNECT=0,"tcp://plain.test",60,1\r');
      await urc(s, /\+CMQTTCONNECT: 0,0/);
      s.modem.pdnDeact(8);
      assert.equal(await urc(s, /\+CGEV: NW PDN DEACT 8\r\n/), '\r\n+CGEV: NW PDN DEACT 8\r\n');
      await s.clock.runFor(5000);
      assert.equal(s.dev.host.take(), '');
      assert.equal(await at(s, 'AT+CMQTTDISC?\r'), '\r\n+CMQTTDISC: 0,0\r\n+CMQTTDISC: 1,1\r\n\r\nOK\r\n', 'still connected');
      assert.match(await at(s, 'AT+CFUN=0\r', { until: /\+CMQTTNONET\r\n/ }), /OK\r\n[\s\S]*\+CGEV: ME DETACH\r\n/);
    });
  });
});
