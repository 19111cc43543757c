// The SIM800 socket driver (firmware/modem/sim800/socket.ts) on the AT engine, against the modem's
// real framing as modem-facts.md §B.2 records it (spaces after the link number, "> " prompt,
// IP-only answers, manual receive). Unit level: the end-to-end test with the SIM800 simulator
// comes with the T-Call app.
import { describe, it } from 'mocha';
import { mock } from 'node:test';
import assert from 'node:assert/strict';
import { createAt } from '../firmware/at/engine.ts';
import { createSim800Socket, linkEvent } from '../firmware/modem/sim800/socket.ts';

describe('sim800-socket.test.mjs', () => {
  globalThis.getTime = () => Date.now() / 1000;

  function rig(script) {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const sent = [];
    let at;
    const modem = (out) => queueMicrotask(() => at.feed(out));
    at = createAt(
      (d) => {
        sent.push(d);
        const reply = script(d, modem);
        if (reply) modem(reply);
      },
      () => {},
    );
    const sock = createSim800Socket(at);
    const got = { data: [], closed: [] };
    sock.onData = (d) => got.data.push(d);
    sock.onClose = (w) => got.closed.push(w);
    const flush = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    return { at, sock, sent, got, modem, flush, done: () => mock.timers.reset() };
  }

  const call = (fn) => new Promise((resolve) => fn((err) => resolve(err)));

  it('link events are read with or without the space', () => {
    assert.equal(linkEvent('0, CONNECT OK'), 'CONNECT OK');
    assert.equal(linkEvent('0,CLOSED'), 'CLOSED');
    assert.equal(linkEvent('1, CLOSED'), '');
  });

  it('open: OK, then "0, CONNECT OK" (and "0, CONNECT FAIL" fails with the reason)', async () => {
    let verdict = '0, CONNECT OK';
    const r = rig((d, modem) => {
      if (d.startsWith('AT+CIPSSL=')) return '\r\nOK\r\n';
      if (d.startsWith('AT+CIPSTART=0,"TCP","broker.test",1883')) {
        setTimeout(() => modem(`\r\n${verdict}\r\n`), 800);
        return '\r\nOK\r\n';
      }
    });
    let p = call((cb) => r.sock.open('broker.test', 1883, false, cb));
    await r.flush();
    mock.timers.tick(800);
    assert.equal(await p, null);
    verdict = '0, CONNECT FAIL';
    p = call((cb) => r.sock.open('broker.test', 1883, true, cb));
    await r.flush();
    mock.timers.tick(800);
    assert.match(await p, /could not connect to broker.test:1883 with the modem's TLS \(TLS 1.0, no SNI\)/);
    assert.ok(r.sent.includes('AT+CIPSSL=1\r'));
    r.done();
  });

  it('open: "0, CLOSED" before CONNECT OK fails at once; an OK after 70 s (within the manual\'s 75 s) is still waited for; abort() fails it at once', async () => {
    let script = 'closed';
    const r = rig((d, modem) => {
      if (d.startsWith('AT+CIPSSL=')) return '\r\nOK\r\n';
      if (d.startsWith('AT+CIPSTART=')) {
        if (script === 'closed') {
          setTimeout(() => modem('\r\n0, CLOSED\r\n\r\n+PDP: DEACT\r\n'), 800);
          return '\r\nOK\r\n';
        }
        if (script === 'slow') setTimeout(() => modem('\r\nOK\r\n\r\n0, CONNECT OK\r\n'), 70000);
      }
    });
    let p = call((cb) => r.sock.open('broker.test', 1883, false, cb));
    await r.flush();
    mock.timers.tick(800);
    await r.flush();
    assert.match(await p, /could not connect/);
    script = 'slow';
    p = call((cb) => r.sock.open('broker.test', 1883, false, cb));
    await r.flush();
    mock.timers.tick(70000);
    await r.flush();
    assert.equal(await p, null);
    script = 'never';
    let err = 'pending';
    r.sock.open('broker.test', 1883, false, (e) => (err = e));
    await r.flush();
    r.at.abort('UNDER-VOLTAGE POWER DOWN');
    assert.match(err, /could not connect/);
    r.done();
  });

  it('send: "> " prompt, exactly the bytes, "0, SEND OK"; more than 1460 bytes go in pieces', async () => {
    const pieces = [];
    const r = rig((d, modem) => {
      if (d.startsWith('AT+CIPSSL') || d.startsWith('AT+CIPSTART')) return d.startsWith('AT+CIPSTART') ? '\r\nOK\r\n\r\n0, CONNECT OK\r\n' : '\r\nOK\r\n';
      const m = /^AT\+CIPSEND=0,(\d+)\r$/.exec(d);
      if (m) return '\r\n> ';
      pieces.push(d);
      return pieces.length === 2 ? '\r\nDATA ACCEPT:0,540\r\n' : '\r\n0, SEND OK\r\n';
    });
    await call((cb) => r.sock.open('h', 1, false, cb));
    const data = Buffer.alloc(2000, 0)
      .map((_, i) => i % 256)
      .toString('latin1');
    assert.equal(await call((cb) => r.sock.send(data, cb)), null);
    assert.deepEqual(
      pieces.map((p) => p.length),
      [1460, 540],
    );
    assert.equal(pieces.join(''), data, 'bytes went out unchanged, CR/LF and zeros included');
    r.done();
  });

  it('receive: "+CIPRXGET: 1,0" → reads until nothing is left; bytes with CR/LF inside arrive whole', async () => {
    const chunks = ['ab\r\ncd', '\r\n\x00\xff'];
    const r = rig((d) => {
      if (d === 'AT+CIPRXGET=2,0,1460\r') {
        const c = chunks.shift();
        return `\r\n+CIPRXGET: 2,0,${c.length},${chunks.length ? 4 : 0}\r\n${c}\r\nOK\r\n`;
      }
    });
    r.modem('\r\n+CIPRXGET: 1,0\r\n');
    await r.flush();
    assert.deepEqual(r.got.data, ['ab\r\ncd', '\r\n\x00\xff']);
    r.done();
  });

  it('the peer closing ("0, CLOSED" or "0,CLOSED") and +PDP: DEACT are reported once', async () => {
    for (const urc of ['0, CLOSED', '0,CLOSED', '+PDP: DEACT']) {
      const r = rig((d) => (d.startsWith('AT+CIPSTART') ? '\r\nOK\r\n\r\n0, CONNECT OK\r\n' : '\r\nOK\r\n'));
      await call((cb) => r.sock.open('h', 1, false, cb));
      r.modem(`\r\n${urc}\r\n`);
      r.modem(`\r\n${urc}\r\n`);
      await r.flush();
      assert.equal(r.got.closed.length, 1, urc);
      r.done();
    }
  });

  it("the peer's last bytes and its close in one burst: the bytes are read and given first, then the close (a TLS alert is not lost)", async () => {
    const order = [];
    const r = rig((d) => {
      if (d.startsWith('AT+CIPSTART')) return '\r\nOK\r\n\r\n0, CONNECT OK\r\n';
      if (d === 'AT+CIPRXGET=2,0,1460\r') return '\r\n+CIPRXGET: 2,0,7,0\r\n\x15\x03\x03\x00\x02\x02F\r\nOK\r\n';
      return '\r\nOK\r\n';
    });
    await call((cb) => r.sock.open('h', 1, false, cb));
    r.sock.onData = (d) => order.push(['data', d]);
    r.sock.onClose = (w) => order.push(['closed', w]);
    r.modem('\r\n+CIPRXGET: 1,0\r\n\r\n0, CLOSED\r\n');
    await r.flush();
    assert.deepEqual(order, [
      ['data', '\x15\x03\x03\x00\x02\x02F'],
      ['closed', 'closed by the server'],
    ]);
    r.done();
  });

  it('close on a link that is already closed ("+CME ERROR: operation not allowed") still completes', async () => {
    const r = rig((d) => (d === 'AT+CIPCLOSE=0\r' ? '\r\n+CME ERROR: operation not allowed\r\n' : null));
    await new Promise((resolve) => r.sock.close(resolve));
    assert.equal(await call((cb) => r.sock.send('x', cb)), 'not connected');
    r.done();
  });
});
