// Tests of the SIM800L simulator (host/sim/sim800). Run:
//   node --import tsx --test test/sim-sim800.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createClock } from '../host/runtime/clock.mjs';
import { createSim800, createFlash } from '../host/sim/sim800/index.mjs';
import { createTestDevice, powerUp, makePki } from '../host/testing/test-device.mjs';
import { board } from '../boards/t-call-sim800l.ts';

describe('sim-sim800.test.mjs', () => {
  // ---------- helpers ----------

  const FINAL = /\r\n(OK|ERROR|\+CME ERROR: [^\r]*|SHUT OK|\d+, CLOSE OK|\d+, SEND OK|DATA ACCEPT:\d+,\d+)\r\n$|\r\n> $/;

  function setup(opts = {}) {
    const clock = createClock();
    const dev = createTestDevice(clock);
    const modem = createSim800({ clock, device: dev, board, ...opts });
    return { clock, dev, modem };
  }

  /** powered and RDY … SMS Ready out (fixed baud rate in flash), output cleared */
  async function booted(opts = {}) {
    const s = setup({ autobaud: false, ...opts });
    await powerUp(s.clock, s.dev, board);
    await s.clock.runFor(3000 + 1500 + 3000 + 5000 + 500);
    assert.equal(s.modem.state.ready, true);
    s.dev.host.take();
    return s;
  }

  async function at(s, line, { until = FINAL, timeoutMs = 30000 } = {}) {
    s.dev.host.write(line);
    const ok = await s.clock.runUntil(() => until.test(s.dev.host.text()), { timeoutMs, stepMs: 5 });
    const out = s.dev.host.take();
    assert.ok(ok, `no answer matching ${until} to ${JSON.stringify(line)}; got ${JSON.stringify(out)}\n${s.modem.transcript.text()}`);
    return out;
  }

  async function urc(s, re, timeoutMs = 30000) {
    let seen = s.carry || ''; // what send() read past its result
    s.carry = '';
    const ok = await s.clock.runUntil(() => re.test((seen += s.dev.host.take())), { timeoutMs, stepMs: 5 });
    assert.ok(ok, `no ${re} in ${JSON.stringify(seen)}\n${s.modem.transcript.text()}`);
    return seen;
  }

  /** nothing at all comes out for ms */
  async function silent(s, ms = 1000) {
    await s.clock.runFor(ms);
    const out = s.dev.host.take();
    assert.equal(out, '', `expected silence, got ${JSON.stringify(out)}`);
  }

  /** TinyGSM's flow up to an IP: CIPSHUT, CIPMUX=1, CIPRXGET=1, CSTT, CIICR, CIFSR */
  async function ipUp(s, { rxget = true } = {}) {
    await at(s, 'ATE0\r');
    assert.match(await at(s, 'AT+CIPSHUT\r'), /^\r\nSHUT OK\r\n$/);
    assert.equal(await at(s, 'AT+CIPMUX=1\r'), '\r\nOK\r\n');
    if (rxget) assert.equal(await at(s, 'AT+CIPRXGET=1\r'), '\r\nOK\r\n');
    assert.equal(await at(s, 'AT+CSTT="internet","",""\r'), '\r\nOK\r\n');
    assert.equal(await at(s, 'AT+CIICR\r'), '\r\nOK\r\n');
    assert.equal(await at(s, 'AT+CIFSR\r', { until: /\r\n[\d.]+\r\n$/ }), '\r\n10.78.245.128\r\n');
    assert.equal(s.modem.state.cip, 'IP STATUS');
  }

  /** CIPSTART: OK at once, then the result URC (returned) */
  async function connect(s, n, port, host = '127.0.0.1') {
    const out = await at(s, `AT+CIPSTART=${n},"TCP","${host}",${port}\r`, {
      until: new RegExp(`\\r\\n${n}, (CONNECT OK|CONNECT FAIL|CLOSE OK|ALREADY CONNECT)\\r\\n$`),
    });
    assert.ok(out.startsWith('\r\nOK\r\n'), JSON.stringify(out));
    return out.slice('\r\nOK\r\n'.length);
  }

  /** CIPSEND=n,len, the prompt, the data; the echo may already follow the result (kept for urc) */
  async function send(s, n, data, result = new RegExp(`^\\r\\n${n}, SEND OK\\r\\n`)) {
    assert.equal(await at(s, `AT+CIPSEND=${n},${data.length}\r`), '\r\n> ');
    const out = await at(s, data, { until: result });
    s.carry = out.replace(result, '');
    return out;
  }

  /** reads everything waiting on link n in chunks of `chunk` (CIPRXGET=2) */
  async function readAll(s, n, chunk = 1460) {
    let data = '';
    for (;;) {
      const w = await at(s, `AT+CIPRXGET=4,${n}\r`);
      const waiting = Number(/\+CIPRXGET: 4,\d,(\d+)/.exec(w)[1]);
      if (!waiting) return data;
      const out = await at(s, `AT+CIPRXGET=2,${n},${chunk}\r`);
      const m = /^\r\n\+CIPRXGET: 2,(\d),(\d+),(\d+)\r\n/.exec(out);
      assert.ok(m, JSON.stringify(out));
      const got = Number(m[2]);
      const body = out.slice(m[0].length, m[0].length + got);
      assert.equal(out.slice(m[0].length + got), '\r\n\r\nOK\r\n');
      assert.equal(Number(m[3]), waiting - got, 'the 4th field is what is still buffered');
      data += body;
    }
  }

  /** a real TCP server; mode 'echo' echoes, 'hold' keeps the sockets for the test to drive */
  async function startServer({ tlsOpts = null, mode = 'echo' } = {}) {
    const socks = [];
    const seen = { servernames: [], protocols: [], errors: [] };
    const onSock = (sock) => {
      socks.push(sock);
      if (tlsOpts) {
        seen.servernames.push(sock.servername);
        seen.protocols.push(sock.getProtocol());
      }
      sock.on('error', () => {});
      if (mode === 'echo') sock.on('data', (d) => sock.write(d));
    };
    const server = tlsOpts ? tls.createServer(tlsOpts, onSock) : net.createServer(onSock);
    server.on('tlsClientError', (e) => seen.errors.push(e.code || e.message));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: server.address().port,
      socks,
      seen,
      close: () =>
        new Promise((r) => {
          for (const x of socks) x.destroy();
          server.close(() => r());
        }),
    };
  }

  const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

  // ---------- power ----------

  describe('power by pins', () => {
    it('PWRKEY low > 1 s powers on (fixed baud: RDY banner in order); a 500 ms pulse does not', async () => {
      const s = setup({ autobaud: false });
      s.dev.pins.set(board.reset.pin, 1);
      s.dev.pins.set(board.powerOn, 1);
      s.dev.pins.set(board.pwrkey.pin, 1);
      await s.clock.runFor(100);
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(500);
      s.dev.pins.set(board.pwrkey.pin, 1);
      await s.clock.runFor(5000);
      assert.equal(s.modem.state.power, 'off');
      assert.equal(s.dev.host.take(), '');

      await powerUp(s.clock, s.dev, board); // 1000 ms pulse
      s.dev.host.write('AT\r'); // during boot: lost
      await s.clock.runFor(1000); // bootMs (3 s) counts from the start of the pulse
      assert.equal(s.dev.host.take(), '');
      await s.clock.runFor(15000);
      assert.equal(s.dev.host.take(), '\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n');
      assert.equal(s.modem.stats.boots, 1);
      assert.match(await at(s, 'AT\r'), /^AT\r\r\nOK\r\n$/);
    });

    it('PWRKEY held 1.5 s while on: NORMAL POWER DOWN, then off; POWER_ON needed to boot', async () => {
      const s = await booted();
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(1000);
      assert.equal(s.modem.state.power, 'on', 'not yet at 1 s');
      await s.clock.runFor(600);
      s.dev.pins.set(board.pwrkey.pin, 1);
      assert.equal(s.dev.host.take(), '\r\nNORMAL POWER DOWN\r\n');
      await s.clock.runFor(2500);
      assert.equal(s.modem.state.power, 'off');
      s.dev.host.write('AT\r');
      await silent(s);
      // rail down: a PWRKEY pulse does nothing
      s.dev.pins.set(board.powerOn, 0);
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(1500);
      s.dev.pins.set(board.pwrkey.pin, 1);
      await s.clock.runFor(5000);
      assert.equal(s.modem.state.power, 'off');
    });

    it('PWRKEY off pulse judged at release as SIM800L-HW Figure 13 "1.5s<T1<33s": exactly 1.5 s does nothing, 2 s powers off', async () => {
      const s = await booted();
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(1500);
      s.dev.pins.set(board.pwrkey.pin, 1);
      await s.clock.runFor(3000);
      assert.equal(s.modem.state.power, 'on');
      assert.equal(s.dev.host.take(), '');
      assert.match(s.modem.power.pulses.at(-1).effect, /^ignored: 1500 ms/);
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(2000);
      assert.equal(s.modem.state.power, 'on', 'judged when released, not while held');
      s.dev.pins.set(board.pwrkey.pin, 1);
      assert.equal(s.dev.host.take(), '\r\nNORMAL POWER DOWN\r\n');
      await s.clock.runFor(2500);
      assert.equal(s.modem.state.power, 'off');
      assert.equal(s.modem.power.pulses.at(-1).effect, 'power off');
    });

    it('AT+CBATCHK=1 and a supply dip below 3.4 V: UNDER-VOLTAGE POWER DOWN, then off until PWRKEY; without it only the warning', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CBATCHK?\r'), '\r\n+CBATCHK: 0\r\n\r\nOK\r\n');
      assert.equal(s.modem.underVoltage(), true);
      assert.equal(s.dev.host.take(), '\r\nUNDER-VOLTAGE WARNNING\r\n');
      assert.equal(s.modem.state.power, 'on');
      assert.equal(await at(s, 'AT+CBATCHK=1\r'), '\r\nOK\r\n');
      s.dev.host.write('AT+CSQ\r');
      s.modem.underVoltage(); // before the answer: none comes
      assert.equal(s.dev.host.take(), '\r\nUNDER-VOLTAGE WARNNING\r\n\r\nUNDER-VOLTAGE POWER DOWN\r\n');
      await s.clock.runFor(2500);
      assert.equal(s.modem.state.power, 'off');
      await silent(s);
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(4000);
      assert.equal(s.modem.state.power, 'on');
    });

    it('PWRKEY held > 33 s restarts the module', async () => {
      const s = await booted();
      s.dev.pins.set(board.pwrkey.pin, 0);
      await s.clock.runFor(34000);
      s.dev.pins.set(board.pwrkey.pin, 1);
      await s.clock.runFor(4000);
      assert.equal(s.modem.stats.boots, 2);
      assert.equal(s.modem.state.power, 'on');
      assert.match(s.dev.host.take(), /NORMAL POWER DOWN[\s\S]*RDY/);
    });

    it('AT+CPOWD=1 prints NORMAL POWER DOWN without OK; RESET low restarts; POWER_ON low cuts', async () => {
      const s = await booted();
      assert.equal(await at(s, 'AT+CPOWD=1\r', { until: /NORMAL POWER DOWN\r\n$/ }), 'AT+CPOWD=1\r\r\nNORMAL POWER DOWN\r\n');
      await s.clock.runFor(2500);
      assert.equal(s.modem.state.power, 'off');
      await s.clock.runFor(1000); // > 800 ms off before the next PWRKEY pulse counts
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(4000);
      assert.equal(s.modem.state.power, 'on');
      s.dev.host.take();
      s.dev.pins.set(board.reset.pin, 0);
      await s.clock.runFor(200);
      s.dev.pins.set(board.reset.pin, 1);
      assert.equal(s.modem.state.power, 'booting');
      await s.clock.runFor(3500);
      assert.match(s.dev.host.take(), /^\r\nRDY\r\n/);
      s.dev.pins.set(board.powerOn, 0);
      assert.equal(s.modem.state.power, 'off');
      assert.equal(s.modem.stats.powerCuts, 1);
    });
  });

  // ---------- autobaud ----------

  describe('autobaud', () => {
    it('no banner; first AT unanswered, then OK; IPR=115200 + &W makes the next boot print RDY …', async () => {
      const flash = createFlash();
      const s = setup({ flash });
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(15000);
      assert.equal(s.dev.host.take(), '', 'autobaud: no boot URCs');
      assert.equal(s.modem.state.autobaud, true);
      s.dev.host.write('xx\r');
      await silent(s, 500);
      s.dev.host.write('AT\r');
      await silent(s, 500); // the rate-detecting AT gets no answer
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
      assert.equal(await at(s, 'AT+IPR=115200\r'), 'AT+IPR=115200\r\r\nOK\r\n');
      assert.equal(await at(s, 'AT&W\r'), 'AT&W\r\r\nOK\r\n');
      assert.equal(flash.ipr, 115200);
      // power cycle through the rail
      s.dev.pins.set(board.powerOn, 0);
      await s.clock.runFor(1000);
      await powerUp(s.clock, s.dev, board);
      await urc(s, /^\r\nRDY\r\n\r\n\+CFUN: 1\r\n\r\n\+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n$/, 20000);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n', 'no sync needed at a fixed rate');
    });

    it('IPR without &W is lost at the next boot; autobaudAnswerFirst answers the first AT', async () => {
      const s = setup({ autobaudAnswerFirst: true });
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(4000);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
      await at(s, 'AT+IPR=115200\r');
      s.dev.pins.set(board.powerOn, 0);
      await s.clock.runFor(1000);
      await powerUp(s.clock, s.dev, board);
      await silent(s, 15000);
      assert.equal(s.modem.state.autobaud, true);
    });
  });

  // ---------- framing and general ----------

  describe('framing', () => {
    it('echo "AT+CREG?\\r\\r\\n…" until ATE0; CREG after registration', async () => {
      const s = await booted();
      assert.equal(await at(s, 'AT+CREG?\r'), 'AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'ATE0\r'), 'ATE0\r\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CREG?\r'), '\r\n+CREG: 0,1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CPIN?\r'), '\r\n+CPIN: READY\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CSQ\r'), '\r\n+CSQ: 20,0\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGATT?\r'), '\r\n+CGATT: 1\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+NOPE\r'), '\r\nERROR\r\n');
    });

    it('registration takes network.registrationMs; CREG=1 URC; CGATT 0 before', async () => {
      const s = setup({ autobaud: false, network: { registrationMs: 20000 } });
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(6000);
      s.dev.host.take();
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CREG?\r'), '\r\n+CREG: 0,2\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CGATT?\r'), '\r\n+CGATT: 0\r\n\r\nOK\r\n');
      await at(s, 'AT+CREG=1\r');
      await urc(s, /\r\n\+CREG: 1\r\n/, 30000);
    });

    it('CMEE 0/1/2 on CIPCLOSE of a never-opened link', async () => {
      const s = await booted();
      await ipUp(s);
      assert.equal(await at(s, 'AT+CIPCLOSE=0\r'), '\r\nERROR\r\n');
      await at(s, 'AT+CMEE=1\r');
      assert.equal(await at(s, 'AT+CIPCLOSE=0\r'), '\r\n+CME ERROR: 3\r\n');
      await at(s, 'AT+CMEE=2\r');
      assert.equal(await at(s, 'AT+CIPCLOSE=0\r'), '\r\n+CME ERROR: operation not allowed\r\n');
      assert.equal(await at(s, 'AT+CMEE?\r'), '\r\n+CMEE: 2\r\n\r\nOK\r\n');
    });
  });

  // ---------- CIP state machine ----------

  describe('CIP states', () => {
    it('every command in the wrong state: plain ERROR', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      await at(s, 'AT+CIPSHUT\r');
      await at(s, 'AT+CIPMUX=1\r');
      assert.equal(s.modem.state.cip, 'IP INITIAL');
      assert.equal(await at(s, 'AT+CIICR\r'), '\r\nERROR\r\n', 'CIICR before CSTT');
      assert.equal(await at(s, 'AT+CIFSR\r'), '\r\nERROR\r\n', 'CIFSR before CIICR');
      assert.equal(await at(s, 'AT+CIPSTART=0,"TCP","127.0.0.1",1\r'), '\r\nERROR\r\n', 'CIPSTART in IP INITIAL');
      assert.equal(await at(s, 'AT+CSTT="internet"\r'), '\r\nOK\r\n');
      assert.equal(s.modem.state.cip, 'IP START');
      assert.equal(await at(s, 'AT+CSTT="internet"\r'), '\r\nERROR\r\n', 'CSTT only in IP INITIAL');
      assert.equal(await at(s, 'AT+CIPMUX=0\r'), '\r\nERROR\r\n', 'CIPMUX only in IP INITIAL');
      assert.equal(await at(s, 'AT+CIPSTART=0,"TCP","127.0.0.1",1\r'), '\r\nERROR\r\n', 'CIPSTART in IP START');
      assert.equal(await at(s, 'AT+CIICR\r'), '\r\nOK\r\n');
      assert.equal(s.modem.state.cip, 'IP GPRSACT');
      assert.equal(await at(s, 'AT+CIICR\r'), '\r\nERROR\r\n', 'CIICR twice');
      assert.equal(await at(s, 'AT+CIPSTART=0,"TCP","127.0.0.1",1\r'), '\r\nERROR\r\n', 'CIPSTART before CIFSR');
      assert.equal(await at(s, 'AT+CIFSR\r', { until: /\r\n[\d.]+\r\n$/ }), '\r\n10.78.245.128\r\n');
      assert.equal(s.modem.state.cip, 'IP STATUS');
      assert.equal(await at(s, 'AT+CIPSEND=0,5\r'), '\r\nERROR\r\n', 'CIPSEND on a link that is not connected');
      assert.equal(await at(s, 'AT+CIPRXGET=2,0,10\r'), '\r\nERROR\r\n', 'CIPRXGET=2 without manual receive mode');
      assert.equal(await at(s, 'AT+CIPSTATUS\r', { until: /C: 5,[^\r]*\r\n$/ }).then((o) => o.split('\r\n')[3]), 'STATE: IP STATUS');
    });

    it('stateErrors: "cme" gives +CME ERROR: operation not allowed (CMEE=2) instead', async () => {
      const s = await booted({ stateErrors: 'cme' });
      await at(s, 'ATE0\r');
      await at(s, 'AT+CMEE=2\r');
      await at(s, 'AT+CIPSHUT\r');
      assert.equal(await at(s, 'AT+CIICR\r'), '\r\n+CME ERROR: operation not allowed\r\n');
      await at(s, 'AT+CSTT="x"\r');
      assert.equal(await at(s, 'AT+CIPMUX=1\r'), '\r\n+CME ERROR: operation not allowed\r\n');
    });

    it('CIICR fails with +PDP: DEACT + ERROR when not attached, and on the pdpFail fault; CIPSHUT recovers', async () => {
      const s = setup({ autobaud: false, network: { registrationMs: 60000 } });
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(9000);
      s.dev.host.take();
      await at(s, 'ATE0\r');
      await at(s, 'AT+CIPSHUT\r');
      await at(s, 'AT+CSTT="internet"\r');
      assert.equal(await at(s, 'AT+CIICR\r'), '\r\n+PDP: DEACT\r\n\r\nERROR\r\n');
      assert.equal(s.modem.state.cip, 'PDP DEACT');
      assert.equal(await at(s, 'AT+CSTT="internet"\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CIPSHUT\r'), '\r\nSHUT OK\r\n');
      assert.equal(s.modem.state.cip, 'IP INITIAL');

      const t = await booted({ faults: { pdpFail: true } });
      await at(t, 'ATE0\r');
      await at(t, 'AT+CSTT="internet"\r');
      assert.equal(await at(t, 'AT+CIICR\r'), '\r\n+PDP: DEACT\r\n\r\nERROR\r\n');
      await at(t, 'AT+CIPSHUT\r');
      await at(t, 'AT+CSTT="internet"\r');
      assert.equal(await at(t, 'AT+CIICR\r'), '\r\nOK\r\n', 'a one-shot fault');
    });
  });

  // ---------- sockets ----------

  describe('TCP links with a real echo server', () => {
    let srv;
    before(async () => {
      srv = await startServer();
    });
    after(() => srv.close());

    it('CONNECT OK with a space; CIPSTATUS both forms; ALREADY CONNECT', async () => {
      const s = await booted();
      await ipUp(s);
      assert.equal(await connect(s, 0, srv.port), '\r\n0, CONNECT OK\r\n');
      assert.equal(s.modem.state.cip, 'IP PROCESSING');
      const st = await at(s, 'AT+CIPSTATUS\r', { until: /C: 5,[^\r]*\r\n$/ });
      assert.equal(
        st,
        '\r\nOK\r\n\r\nSTATE: IP PROCESSING\r\n\r\n' +
          `C: 0,0,"TCP","127.0.0.1","${srv.port}","CONNECTED"\r\n` +
          [1, 2, 3, 4, 5].map((n) => `C: ${n},,"","","","INITIAL"`).join('\r\n') +
          '\r\n',
      );
      assert.equal(await at(s, 'AT+CIPSTATUS=0\r'), `\r\n+CIPSTATUS: 0,0,"TCP","127.0.0.1","${srv.port}","CONNECTED"\r\n\r\nOK\r\n`);
      assert.equal(await connect(s, 0, srv.port), '\r\n0, ALREADY CONNECT\r\n'.replace('ALREADY CONNECT', 'ALREADY CONNECT'));
      assert.match(await at(s, 'AT+CIPSEND?\r'), /^\r\n\+CIPSEND: 0,1460\r\n\+CIPSEND: 1,0\r\n[\s\S]*\+CIPSEND: 5,0\r\n\r\nOK\r\n$/);
      assert.equal(await at(s, 'AT+CIPCLOSE=0\r'), '\r\n0, CLOSE OK\r\n');
      assert.equal(s.modem.state.cip, 'IP STATUS');
      assert.equal(srv.socks.length >= 1, true);
    });

    it('CIPSEND: "> " prompt, exactly len bytes, SEND OK; manual receive with split reads; one URC until read', async () => {
      const s = await booted();
      await ipUp(s);
      await connect(s, 1, srv.port);
      // the bytes after <len> are a new command line, not data
      s.dev.host.write('AT+CIPSEND=1,5\r');
      assert.ok(await s.clock.runUntil(() => s.dev.host.text() === '\r\n> ', { timeoutMs: 1000, stepMs: 5 }));
      s.dev.host.take();
      s.dev.host.write('helloAT\r');
      const out = await urc(s, /^(?=[\s\S]*\+CIPRXGET: 1,1\r\n)(?=[\s\S]*\r\nOK\r\n)/);
      assert.match(out, /^\r\n1, SEND OK\r\n/);
      assert.match(out, /\r\nOK\r\n/, 'the trailing AT was answered as a command');
      assert.equal((out.match(/\+CIPRXGET: 1,1/g) || []).length, 1);
      // more data before reading: no second URC
      await send(s, 1, ' world');
      await s.clock.runUntil(() => s.modem.state.links[1].buffered === 11, { timeoutMs: 5000, stepMs: 5 });
      assert.doesNotMatch(s.carry + s.dev.host.text(), /CIPRXGET: 1/, 'no second +CIPRXGET: 1 before a read');
      s.carry = '';
      await silent(s, 500);
      assert.equal(await at(s, 'AT+CIPRXGET=4,1\r'), '\r\n+CIPRXGET: 4,1,11\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CIPRXGET=2,1,4\r'), '\r\n+CIPRXGET: 2,1,4,7\r\nhell\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CIPRXGET=3,1,2\r'), '\r\n+CIPRXGET: 3,1,2,5\r\n6F20\r\n\r\nOK\r\n', 'mode 3: hex');
      assert.equal(await at(s, 'AT+CIPRXGET=2,1,1460\r'), '\r\n+CIPRXGET: 2,1,5,0\r\nworld\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CIPRXGET=2,1,1461\r'), '\r\nERROR\r\n');
      // read empty: the next arrival is announced again
      await send(s, 1, 'again');
      await urc(s, /^\r\n\+CIPRXGET: 1,1\r\n$/);
    });

    it('all 256 byte values both ways; 1460 bytes max per CIPSEND; CIPQSEND=1 gives DATA ACCEPT', async () => {
      const s = await booted();
      await ipUp(s);
      await connect(s, 2, srv.port);
      await send(s, 2, ALL_BYTES);
      await urc(s, /\+CIPRXGET: 1,2\r\n/);
      // real I/O under clock.hold(): the echo is announced in the same virtual ms as SEND OK
      const sent = s.modem.transcript.entries.find((e) => e.dir === 'out' && e.data.includes('2, SEND OK'));
      const rx = s.modem.transcript.entries.find((e) => e.dir === 'out' && e.data.includes('+CIPRXGET: 1,2'));
      assert.equal(rx.t, sent.t, 'echo in the same virtual ms as SEND OK');
      assert.equal(await readAll(s, 2, 100), ALL_BYTES);
      assert.equal(await at(s, 'AT+CIPSEND=2,1461\r'), '\r\nERROR\r\n');
      const big = 'x'.repeat(1460);
      await send(s, 2, big);
      await s.clock.runUntil(() => s.modem.state.links[2].buffered === 1460, { timeoutMs: 5000, stepMs: 5 });
      assert.equal(await readAll(s, 2, 1000), big);
      assert.equal(await at(s, 'AT+CIPQSEND=1\r'), '\r\nOK\r\n');
      await send(s, 2, 'quick', /^\r\nDATA ACCEPT:2,5\r\n/);
      await s.clock.runUntil(() => s.modem.state.links[2].buffered === 5, { timeoutMs: 5000, stepMs: 5 });
      assert.equal(await readAll(s, 2), 'quick');
    });

    it("CIPQSEND=0: SEND OK only after the server's TCP ACK (ackDelayMs); CIPQSEND=1: DATA ACCEPT as soon as the modem has the bytes", async () => {
      const s = await booted({ ackDelayMs: 12000 }); // a slow GPRS round trip
      await ipUp(s);
      await connect(s, 3, srv.port);
      assert.equal(await at(s, 'AT+CIPSEND=3,4\r'), '\r\n> ');
      s.dev.host.write('slow');
      await s.clock.runFor(11000);
      assert.doesNotMatch(s.dev.host.text(), /SEND OK/, 'no SEND OK before the ACK is back');
      await urc(s, /^\r\n3, SEND OK\r\n/, 2000);
      assert.equal(await at(s, 'AT+CIPQSEND=1\r'), '\r\nOK\r\n');
      const t0 = s.clock.now();
      await send(s, 3, 'fast', /^\r\nDATA ACCEPT:3,4\r\n/);
      assert.ok(s.clock.now() - t0 < 1000, 'DATA ACCEPT does not wait for the round trip');
    });

    it('CIPQSEND=0: the link lost before the ACK comes back gives SEND FAIL', async () => {
      const s = await booted({ ackDelayMs: 5000 });
      await ipUp(s);
      await connect(s, 4, srv.port);
      assert.equal(await at(s, 'AT+CIPSEND=4,2\r'), '\r\n> ');
      s.dev.host.write('hi');
      await s.clock.runFor(1000);
      s.modem.pdpDeact();
      await urc(s, /4, SEND FAIL\r\n[\s\S]*4, CLOSED\r\n/, 10000);
    });

    it('CIPSEND without a length ends at Ctrl-Z', async () => {
      const s = await booted();
      await ipUp(s);
      await connect(s, 0, srv.port);
      assert.equal(await at(s, 'AT+CIPSEND=0\r'), '\r\n> ');
      s.carry = (await at(s, 'abc\x1a', { until: /^\r\n0, SEND OK\r\n/ })).slice(15);
      await urc(s, /\+CIPRXGET: 1,0/);
      assert.equal(await readAll(s, 0), 'abc');
    });

    it('without CIPRXGET=1 data arrives as +RECEIVE,<n>,<len>:', async () => {
      const s = await booted();
      await ipUp(s, { rxget: false });
      await connect(s, 0, srv.port);
      await send(s, 0, 'ping');
      await urc(s, /\r\n\+RECEIVE,0,4:\r\nping$/);
    });

    it('connection refused: "0, CONNECT FAIL"; unknown host name: CONNECT FAIL', async () => {
      const s = await booted();
      await ipUp(s);
      const dead = await startServer();
      const port = dead.port;
      await dead.close();
      assert.equal(await connect(s, 0, port), '\r\n0, CONNECT FAIL\r\n');
      assert.equal(await connect(s, 1, 80, 'nowhere.example'), '\r\n1, CONNECT FAIL\r\n');
      assert.equal(s.modem.state.cip, 'IP STATUS');
    });

    it('dns maps a host name to the real listener', async () => {
      const s = await booted({ dns: { 'broker.example.com': { host: '127.0.0.1', port: srv.port } } });
      await ipUp(s);
      assert.equal(await connect(s, 0, 1883, 'broker.example.com'), '\r\n0, CONNECT OK\r\n');
      assert.deepEqual(s.modem.stats.connects.at(-1).address, { host: '127.0.0.1', port: srv.port });
      assert.match(await at(s, 'AT+CIPSTATUS=0\r'), /"broker.example.com","1883","CONNECTED"/);
    });
  });

  describe('closing', () => {
    let srv;
    before(async () => {
      srv = await startServer({ mode: 'hold' });
    });
    after(() => srv.close());

    it('remote close: "0, CLOSED"; data before it stays readable; CIPCLOSE then is not allowed', async () => {
      const s = await booted();
      await ipUp(s);
      await at(s, 'AT+CMEE=2\r');
      const n0 = srv.socks.length;
      await connect(s, 0, srv.port);
      await s.clock.runUntil(() => srv.socks.length > n0, { timeoutMs: 2000, stepMs: 5 });
      const peer = srv.socks.at(-1);
      const hold = s.clock.hold();
      peer.end('bye');
      await new Promise((r) => setTimeout(r, 100));
      hold();
      const out = await urc(s, /\r\n0, CLOSED\r\n/);
      assert.match(out, /^\r\n\+CIPRXGET: 1,0\r\n\r\n0, CLOSED\r\n$/);
      assert.equal(s.modem.state.links[0].state, 'CLOSED');
      assert.equal(await readAll(s, 0), 'bye');
      assert.equal(await at(s, 'AT+CIPCLOSE=0\r'), '\r\n+CME ERROR: operation not allowed\r\n');
      assert.equal(await at(s, 'AT+CIPSEND=0,1\r'), '\r\nERROR\r\n');
    });

    it('closedSpace: false spells "0,CLOSED"; closeClosed: "error" gives plain ERROR', async () => {
      const s = await booted({ closedSpace: false, closeClosed: 'error' });
      await ipUp(s);
      await at(s, 'AT+CMEE=2\r');
      await connect(s, 3, srv.port);
      assert.ok(s.modem.dropLink(3));
      await urc(s, /^\r\n3,CLOSED\r\n$/);
      assert.equal(await at(s, 'AT+CIPCLOSE=3\r'), '\r\nERROR\r\n');
    });

    it('+PDP: DEACT fault closes the links; only CIPSHUT recovers', async () => {
      const s = await booted();
      await ipUp(s);
      await connect(s, 0, srv.port);
      assert.ok(s.modem.pdpDeact());
      await urc(s, /^\r\n0, CLOSED\r\n\r\n\+PDP: DEACT\r\n$/);
      assert.equal(s.modem.state.cip, 'PDP DEACT');
      assert.equal(await at(s, 'AT+CIPSTART=0,"TCP","127.0.0.1",1\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CIFSR\r'), '\r\nERROR\r\n');
      assert.equal(await at(s, 'AT+CIPSHUT\r'), '\r\nSHUT OK\r\n');
      assert.equal(s.modem.state.cip, 'IP INITIAL');
    });
  });

  // ---------- SSL ----------

  describe('AT+CIPSSL=1: TLS 1.0, no SNI', () => {
    let pki;
    let tls12;
    let tls10;
    before(async () => {
      pki = makePki(['broker.example.com']);
      tls12 = await startServer({ tlsOpts: { key: pki.keyPem, cert: pki.certPem, minVersion: 'TLSv1.2' } });
      tls10 = await startServer({ tlsOpts: { key: pki.keyPem, cert: pki.certPem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' } });
    });
    after(async () => {
      await tls12.close();
      await tls10.close();
    });
    const dnsFor = (port) => ({ dns: { 'broker.example.com': { host: '127.0.0.1', port } } });

    it('a TLS 1.2-only server refuses it: CONNECT FAIL (or CLOSE OK as TinyGSM saw)', async () => {
      const s = await booted(dnsFor(tls12.port));
      await ipUp(s);
      assert.equal(await at(s, 'AT+CIPSSL=1\r'), '\r\nOK\r\n');
      assert.equal(await connect(s, 0, 8883, 'broker.example.com'), '\r\n0, CONNECT FAIL\r\n');
      assert.equal(s.modem.state.links[0].state, 'CLOSED');
      const t = await booted({ ...dnsFor(tls12.port), sslFailUrc: 'CLOSE OK' });
      await ipUp(t);
      await at(t, 'AT+CIPSSL=1\r');
      assert.equal(await connect(t, 0, 8883, 'broker.example.com'), '\r\n0, CLOSE OK\r\n');
      assert.ok(tls12.seen.errors.length >= 2, `server saw ${tls12.seen.errors}`);
    });

    it("a TLS 1.0 server accepts it: TLSv1, no SNI, data through the modem's TLS", async () => {
      const s = await booted(dnsFor(tls10.port));
      await ipUp(s);
      // opened before CIPSSL=1: plain TCP (the TLS server sees garbage)
      await at(s, 'AT+CIPSSL=1\r');
      assert.equal(await connect(s, 1, 8883, 'broker.example.com'), '\r\n1, CONNECT OK\r\n');
      assert.equal(tls10.seen.servernames.at(-1), false, 'no SNI');
      assert.equal(tls10.seen.protocols.at(-1), 'TLSv1');
      assert.equal(s.modem.state.links[1].tls, 'TLSv1');
      await send(s, 1, 'secret');
      await urc(s, /\+CIPRXGET: 1,1/);
      assert.equal(await readAll(s, 1), 'secret');
    });

    it('links opened before CIPSSL=1 stay plain', async () => {
      const plain = await startServer();
      try {
        const s = await booted();
        await ipUp(s);
        await connect(s, 0, plain.port);
        await at(s, 'AT+CIPSSL=1\r');
        assert.equal(s.modem.state.links[0].ssl, false);
        await send(s, 0, 'x');
        await urc(s, /\+CIPRXGET: 1,0/);
        assert.equal(await readAll(s, 0), 'x');
      } finally {
        await plain.close();
      }
    });
  });

  // ---------- stats ----------

  describe('stats', () => {
    it('idleGapMs counts the time the modem waits for the host, not its own work', async () => {
      const s = await booted();
      await at(s, 'AT\r');
      const g0 = s.modem.stats.idleGapMs;
      await s.clock.runFor(2000);
      await at(s, 'AT\r');
      const g1 = s.modem.stats.idleGapMs;
      assert.ok(g1 - g0 >= 2000 && g1 - g0 < 2100, `gap ${g1 - g0}`);
      // CIICR (PDP activation) is the modem's work: no idle time while it runs
      await at(s, 'AT+CSTT="x"\r');
      const g2 = s.modem.stats.idleGapMs;
      await at(s, 'AT+CIICR\r');
      assert.ok(s.modem.stats.idleGapMs - g2 < 30, `gap ${s.modem.stats.idleGapMs - g2}`);
      assert.ok(s.modem.stats.bytesIn > 0 && s.modem.stats.bytesOut > 0);
    });

    it("network search is the modem's work: no idle gap counted while registering", async () => {
      const s = setup({ autobaud: false, network: { registrationMs: 20000 } });
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(9000); // ready 3 s, SIM 4.5 s, Call Ready 8 s, registering until 24.5 s
      s.dev.host.take();
      const g0 = s.modem.stats.idleGapMs;
      await at(s, 'AT\r');
      assert.ok(s.modem.stats.idleGapMs - g0 < 30, `gap ${s.modem.stats.idleGapMs - g0}`);
    });
  });

  // ---------- clock ----------

  /** "yy/MM/dd,hh:mm:ss±zz" for a local time in ms and a zone in quarter hours */
  function cclkOf(localMs, tz) {
    const d = new Date(localMs);
    const p = (n) => String(n).padStart(2, '0');
    return `${p(d.getUTCFullYear() % 100)}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())},${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${tz < 0 ? '-' : '+'}${p(Math.abs(tz))}`;
  }

  /** cuts POWER_ON and boots again (the flash is kept) */
  async function powerCycle(s) {
    s.dev.pins.set(board.powerOn, 0);
    await s.clock.runFor(1000);
    await powerUp(s.clock, s.dev, board);
  }

  describe('clock: AT+CCLK, AT+CLTS and network time', () => {
    const UTC0 = Date.UTC(2025, 5, 1, 12, 0, 0); // the network's UTC at virtual time 0

    it('after power-on the clock runs from 04/01/01,00:00:00+00; CLTS=0: no network time', async () => {
      const s = await booted({ clockUtc: UTC0 });
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CLTS=?\r'), '\r\n+CLTS: (0,1)\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CLTS?\r'), '\r\n+CLTS: 0\r\n\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CCLK=?\r'), '\r\nOK\r\n');
      const started = s.modem.power.pulses[0].startMs + 1000; // PWRKEY held 1 s: the module starts
      const read = async () => {
        const t = s.clock.now();
        assert.equal(await at(s, 'AT+CCLK?\r'), `\r\n+CCLK: "${cclkOf(Date.UTC(2004, 0, 1) + t - started, 0)}"\r\n\r\nOK\r\n`);
      };
      await read();
      assert.equal(s.modem.state.creg, 1, 'registered, yet no network time with CLTS=0');
      await s.clock.runFor(61000);
      await read();
      assert.doesNotMatch(s.modem.transcript.output(), /PSUTTZ|CTZV|DST:|CIEV/);
    });

    it('CLTS=1 + &W survives a power cycle; registration brings +CTZV, *PSUTTZ (UTC), DST, +CIEV; CCLK is local time', async () => {
      const flash = createFlash({ ipr: 115200 });
      const s = await booted({ flash, clockUtc: UTC0, network: { tz: 8, dst: 1 } });
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CLTS=1\r'), '\r\nOK\r\n');
      assert.equal(await at(s, 'AT&W\r'), '\r\nOK\r\n');
      assert.equal(flash.clts, 1);
      assert.doesNotMatch(s.modem.transcript.output(), /PSUTTZ/, 'CLTS=1 acts at the next registration');

      await powerCycle(s);
      const out = await urc(s, /\+CIEV: [^\r]*\r\n/, 20000);
      const t = s.modem.transcript.entries.find((e) => e.dir === 'out' && e.data.includes('*PSUTTZ')).t;
      const d = new Date(UTC0 + t);
      assert.match(
        out,
        new RegExp(
          '\\r\\n\\+CTZV: \\+8,1\\r\\n\\r\\n' +
            `\\*PSUTTZ: ${d.getUTCFullYear()},${d.getUTCMonth() + 1},${d.getUTCDate()},${d.getUTCHours()},${d.getUTCMinutes()},${d.getUTCSeconds()},"\\+8",1\\r\\n\\r\\n` +
            'DST: 1\\r\\n\\r\\n\\+CIEV: 10,"23801","TDC","TDC", 0, 0\\r\\n$',
        ),
      );
      assert.equal(s.modem.state.clts, 1);
      s.dev.host.write('ATE0\r');
      await s.clock.runFor(100);
      s.dev.host.take();
      const now = s.clock.now();
      assert.equal(await at(s, 'AT+CCLK?\r'), `\r\n+CCLK: "${cclkOf(UTC0 + now + 8 * 15 * 60000, 8)}"\r\n\r\nOK\r\n`, 'UTC + 2 h, zone +08');

      // a restart: the clock starts again at 04/01/01, in the zone it last had
      s.dev.pins.set(board.reset.pin, 0);
      await s.clock.runFor(200);
      s.dev.pins.set(board.reset.pin, 1);
      await s.clock.runFor(4000);
      s.dev.host.take();
      await at(s, 'ATE0\r');
      assert.match(await at(s, 'AT+CCLK?\r'), /^\r\n\+CCLK: "04\/01\/01,00:00:0\d\+08"\r\n\r\nOK\r\n$/);
      await urc(s, /\*PSUTTZ: 2025,6,1,/, 20000);
    });

    it('network.nitz = false: CLTS=1 but no URCs, the clock stays at the default', async () => {
      const s = await booted({ flash: createFlash({ ipr: 115200, clts: 1 }), clockUtc: UTC0, network: { nitz: false } });
      await s.clock.runFor(5000);
      assert.doesNotMatch(s.modem.transcript.output(), /PSUTTZ|CTZV|DST:|CIEV/);
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CLTS?\r'), '\r\n+CLTS: 1\r\n\r\nOK\r\n');
      assert.match(await at(s, 'AT+CCLK?\r'), /^\r\n\+CCLK: "04\/01\/01,00:00:\d\d\+00"\r\n\r\nOK\r\n$/);
    });

    it('nitzUrcs with *PSNWID, a zone west of UTC; CFUN=0/1 registers again and brings the time again', async () => {
      const s = await booted({ clockUtc: UTC0, network: { tz: -20, nitzUrcs: ['*PSNWID', '*PSUTTZ', 'DST'] } });
      await at(s, 'ATE0\r');
      await at(s, 'AT+CLTS=1\r');
      await at(s, 'AT+CFUN=0\r');
      await at(s, 'AT+CFUN=1\r');
      const out = await urc(s, /DST: 0\r\n/, 20000);
      assert.match(out, /^\r\n\*PSNWID: "238","01", "TDC", 0, "TDC", 0\r\n\r\n\*PSUTTZ: 2025,6,1,12,0,\d+,"-20",0\r\n\r\nDST: 0\r\n$/);
      const now = s.clock.now();
      assert.equal(await at(s, 'AT+CCLK?\r'), `\r\n+CCLK: "${cclkOf(UTC0 + now - 5 * 3600000, -20)}"\r\n\r\nOK\r\n`);
    });

    it('AT+CCLK="…" sets local time and zone; bad dates, zones and forms: ERROR; AT&F clears CLTS, ATZ restores it', async () => {
      const flash = createFlash({ ipr: 115200, clts: 1 });
      const s = await booted({ flash, network: { nitz: false } });
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CCLK="25/12/31,23:59:50-20"\r'), '\r\nOK\r\n');
      await s.clock.runFor(15000);
      assert.match(await at(s, 'AT+CCLK?\r'), /^\r\n\+CCLK: "26\/01\/01,00:00:0[45]-20"\r\n\r\nOK\r\n$/);
      for (const bad of ['"25/02/30,10:00:00+00"', '"25/12/31,24:00:00+00"', '"25/12/31,10:00:00+49"', '"25/12/31,10:00:00"', '25']) {
        assert.equal(await at(s, `AT+CCLK=${bad}\r`), '\r\nERROR\r\n', bad);
      }
      assert.equal(await at(s, 'AT+CLTS=2\r'), '\r\nERROR\r\n');
      await at(s, 'AT&F\r'); // factory: echo on again, CLTS 0
      await at(s, 'ATE0\r');
      assert.equal(await at(s, 'AT+CLTS?\r'), '\r\n+CLTS: 0\r\n\r\nOK\r\n');
      await at(s, 'ATZ\r');
      assert.equal(await at(s, 'ATE0\r'), 'ATE0\r\r\nOK\r\n');
      assert.equal(await at(s, 'AT+CLTS?\r'), '\r\n+CLTS: 1\r\n\r\nOK\r\n', 'ATZ: the saved profile');
      assert.equal(flash.tz, -20, 'the zone is kept for the next power-up');
    });
  });

  // ---------- faults (host/testing/faults.mjs uses these) ----------

  describe('faults', () => {
    let srv;
    before(async () => {
      srv = await startServer({ mode: 'hold' });
    });
    after(() => srv.close());

    it('reboot() at a fixed baud rate: RDY … SMS Ready again, echo on, links and PDP gone, profile kept', async () => {
      const s = await booted();
      await ipUp(s);
      await at(s, 'AT+CLTS=1\r');
      await at(s, 'AT&W\r');
      await connect(s, 0, srv.port);
      assert.equal(s.modem.reboot(), true);
      s.dev.host.write('AT\r'); // lost while it boots
      await silent(s, 2900);
      await urc(s, /^\r\nRDY\r\n\r\n\+CFUN: 1\r\n\r\n\+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n$/, 20000);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n', 'echo is on again');
      assert.equal(s.modem.state.cip, 'IP INITIAL');
      assert.equal(s.modem.state.links[0].state, 'INITIAL');
      assert.equal(s.modem.state.clts, 1, 'the &W profile survives');
      assert.equal(s.modem.stats.spontaneousReboots, 1);
    });

    it('reboot() in autobaud: no banner at all, the first AT is swallowed again', async () => {
      const s = setup();
      await powerUp(s.clock, s.dev, board);
      await s.clock.runFor(4000);
      s.dev.host.write('AT\r');
      await silent(s, 500);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
      s.modem.reboot();
      await silent(s, 15000);
      s.dev.host.write('AT\r');
      await silent(s, 500);
      assert.equal(await at(s, 'AT\r'), 'AT\r\r\nOK\r\n');
    });

    it('inject() is not held back like a URC: it lands inside the answer it is meant for', async () => {
      const s = await booted();
      await at(s, 'ATE0\r');
      s.modem.inject('\r\n+CSQ: 99,99\r\n', { into: '+CREG' });
      assert.equal(await at(s, 'AT+CREG?\r'), '\r\n+CREG: 0,1\r\n\r\n+CSQ: 99,99\r\n\r\nOK\r\n');
      s.modem.inject('\xfe\x00');
      assert.equal(s.dev.host.take(), '\xfe\x00');
    });

    it('loseNetwork({stat}): "+CREG: 2", link closed, +PDP: DEACT; CFUN=0/1 only searches; restoreNetwork() registers', async () => {
      const s = await booted();
      await ipUp(s);
      await at(s, 'AT+CREG=1\r');
      await connect(s, 0, srv.port);
      s.modem.loseNetwork({ stat: 2 });
      await urc(s, /^\r\n\+CREG: 2\r\n\r\n0, CLOSED\r\n\r\n\+PDP: DEACT\r\n$/);
      assert.equal(await at(s, 'AT+CSQ\r'), '\r\n+CSQ: 99,0\r\n\r\nOK\r\n');
      await at(s, 'AT+CFUN=0\r');
      await at(s, 'AT+CFUN=1\r');
      await s.clock.runFor(10000);
      s.dev.host.take();
      assert.equal(await at(s, 'AT+CREG?\r'), '\r\n+CREG: 1,2\r\n\r\nOK\r\n', 'no cell to register on');
      s.modem.restoreNetwork();
      await urc(s, /\+CREG: 1\r\n/, 5000);
      assert.equal(await at(s, 'AT+CIPSHUT\r'), '\r\nSHUT OK\r\n');
    });

    it('cutSupply(): off at once (RDY only after the supply is back and PWRKEY pulsed)', async () => {
      const s = await booted();
      s.modem.cutSupply();
      assert.equal(s.modem.state.power, 'off');
      s.modem.restoreSupply();
      await silent(s, 5000);
      await powerUp(s.clock, s.dev, board);
      await urc(s, /^\r\nRDY\r\n/, 6000);
    });
  });
});
