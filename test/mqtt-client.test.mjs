// The MQTT 3.1.1 client (firmware/mqtt-client/client.ts) against a real Aedes broker over a plain Node TCP
// socket (binary strings in and out, as the modem's socket gives them), plus the parts a broker
// cannot provoke (wrong PUBACK ids, timeouts, Espruino-style timer id reuse) against a fake transport,
// and the bundled client in the host runtime and (with ESPRUINO_BIN) the real interpreter.
// Run: node --import tsx --test test/mqtt-client.test.mjs
import { describe, it, before, after } from 'mocha';
import { mock } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { Aedes } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { createMqttClient } from '../firmware/mqtt-client/client.ts';
import * as codec from '../firmware/mqtt-client/packet.ts';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('mqtt-client.test.mjs', () => {
  const bin = (b) => Buffer.from(b).toString('latin1');

  /** mqtt-packet's reading of everything a client wrote (binary strings) */
  function parseAll(chunks) {
    const p = mqttPacket.parser({ protocolVersion: 4 });
    const out = [];
    p.on('packet', (x) => out.push(x));
    p.on('error', (e) => out.push({ error: e.message }));
    p.parse(Buffer.from(chunks.join(''), 'latin1'));
    return out;
  }

  async function until(pred, what, ms = 3000, spin) {
    const end = performance.now() + ms; // Date may be mocked
    while (!pred()) {
      if (spin) spin();
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await tick();
      await new Promise((r) => setImmediate(r));
    }
  }

  describe('against a real Aedes broker over TCP', () => {
    let broker, server, port;
    const brokerEvents = [];
    before(async () => {
      broker = await Aedes.createBroker();
      broker.on(
        'publish',
        (p, c) => c && brokerEvents.push({ ev: 'publish', topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, clientId: c.id }),
      );
      broker.on('ack', (p, c) => brokerEvents.push({ ev: 'ack', topic: p && p.topic, clientId: c.id }));
      broker.on('ping', (p, c) => brokerEvents.push({ ev: 'ping', clientId: c.id }));
      broker.on('keepaliveTimeout', (c) => brokerEvents.push({ ev: 'keepaliveTimeout', clientId: c.id }));
      broker.on('clientError', (c, e) => brokerEvents.push({ ev: 'clientError', clientId: c.id, e: e.message }));
      server = net.createServer(broker.handle);
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      port = server.address().port;
    });
    after(async () => {
      await new Promise((r) => broker.close(r));
      await new Promise((r) => server.close(r));
    });

    /** a client on a fresh socket: { c, sock, states, messages, written } once connected (or refused) */
    async function open(opts = {}) {
      const sock = net.connect(port, '127.0.0.1');
      await new Promise((r, j) => sock.once('connect', r).once('error', j));
      const states = [];
      const messages = [];
      const written = [];
      const c = createMqttClient({
        write: (s) => {
          written.push(s);
          sock.write(Buffer.from(s, 'latin1'));
        },
        clientId: 'cp-' + Math.random().toString(36).slice(2, 8),
        keepalive: 60,
        onMessage: (topic, payload, qos, retain) => messages.push({ topic, payload, qos, retain }),
        onState: (s, why) => {
          states.push([s, why]);
          if (s === 'closed') sock.destroy(); // the caller closes the transport
        },
        ...opts,
      });
      sock.on('data', (b) => c.received(bin(b)));
      sock.on('close', () => c.closed());
      c.connect();
      await until(() => c.state() !== 'connecting', 'CONNACK');
      return { c, sock, states, messages, written };
    }

    it('connect: CONNACK, state connected; will, user name and password reach the broker', async () => {
      let seen;
      broker.authenticate = (client, username, password, cb) => {
        seen = { id: client.id, username, password: password && password.toString('latin1') };
        cb(null, true);
      };
      broker.once('clientReady', (client) => (seen.will = client.will));
      try {
        const k = await open({
          clientId: 'dev-1',
          username: 'u',
          password: 'p\xff',
          will: { topic: 'cp/dev-1/status', message: 'offline', qos: 1, retain: true },
        });
        assert.deepEqual(k.states, [
          ['connecting', ''],
          ['connected', ''],
        ]);
        assert.equal(seen.id, 'dev-1');
        assert.equal(seen.username, 'u');
        assert.equal(seen.password, 'p\xff');
        assert.equal(seen.will.topic, 'cp/dev-1/status');
        assert.equal(Buffer.from(seen.will.payload).toString(), 'offline');
        assert.equal(seen.will.qos, 1);
        assert.equal(seen.will.retain, true);
        k.c.disconnect();
        assert.deepEqual(k.states.at(-1), ['closed', 'disconnect']);
        assert.deepEqual(parseAll(k.written).at(-1).cmd, 'disconnect');
      } finally {
        broker.authenticate = (client, u, p, cb) => cb(null, true);
      }
    });

    it('refused credentials: CONNACK with a return code closes with the reason', async () => {
      broker.authenticate = (client, u, p, cb) => {
        const e = new Error('bad');
        e.returnCode = 4;
        cb(e, false);
      };
      try {
        const k = await open({ username: 'x', password: 'y' });
        assert.equal(k.c.state(), 'closed');
        assert.deepEqual(k.states.at(-1), ['closed', 'refused: 4 bad user name or password']);
      } finally {
        broker.authenticate = (client, u, p, cb) => cb(null, true);
      }
    });

    it('publish QoS 0 and QoS 1: the broker gets both; QoS 1 completes on its PUBACK', async () => {
      const k = await open();
      const done = [];
      k.c.publish('cp/t0', 'zero\x00\xff', 0, (e) => done.push(['q0', e]));
      assert.deepEqual(done, [['q0', null]], 'QoS 0: done when written');
      k.c.publish('cp/t1', 'one', 1, (e) => done.push(['q1', e]));
      assert.equal(done.length, 1, 'QoS 1: not done before the PUBACK');
      await until(() => done.length === 2, 'PUBACK');
      assert.deepEqual(done[1], ['q1', null]);
      const mine = brokerEvents.filter((e) => e.ev === 'publish' && e.topic.startsWith('cp/t'));
      assert.deepEqual(
        mine.map((e) => [e.topic, bin(e.payload), e.qos]),
        [
          ['cp/t0', 'zero\x00\xff', 0],
          ['cp/t1', 'one', 1],
        ],
      );
      const sent = parseAll(k.written).filter((p) => p.cmd === 'publish');
      assert.equal(sent[1].qos, 1);
      assert.ok(sent[1].messageId >= 1);
      k.c.disconnect();
    });

    it('subscribe, then receive QoS 0 and QoS 1 (answered with PUBACK)', async () => {
      const k = await open();
      let granted;
      k.c.subscribe(['cp/cmd/#', 'cp/other'], 1, (e, g) => (granted = [e, g]));
      await until(() => granted, 'SUBACK');
      assert.deepEqual(granted, [null, [1, 1]]);
      const acksBefore = brokerEvents.filter((e) => e.ev === 'ack').length;
      broker.publish({ cmd: 'publish', topic: 'cp/cmd/a', payload: Buffer.from('q0'), qos: 0, retain: false }, () => {});
      broker.publish({ cmd: 'publish', topic: 'cp/cmd/b', payload: Buffer.from([0, 1, 0xfe, 0xff]), qos: 1, retain: false }, () => {});
      await until(() => k.messages.length === 2, 'two messages');
      assert.deepEqual(k.messages, [
        { topic: 'cp/cmd/a', payload: 'q0', qos: 0, retain: false },
        { topic: 'cp/cmd/b', payload: '\x00\x01\xfe\xff', qos: 1, retain: false },
      ]);
      await until(() => brokerEvents.filter((e) => e.ev === 'ack').length > acksBefore, 'the broker to get our PUBACK');
      const pubacks = parseAll(k.written).filter((p) => p.cmd === 'puback');
      assert.equal(pubacks.length, 1);
      k.c.disconnect();
    });

    it('keepalive: PINGREQ after keepalive seconds of silence, PINGRESP keeps it up; no PINGRESP = dead', async () => {
      // the client's timers, and Aedes's keepalive check (setTimeout + Date.now) on the same fake time;
      // sockets use Node's internal timers, so TCP goes on in real time
      mock.timers.enable({ apis: ['setTimeout', 'Date'] });
      try {
        const k = await open({ keepalive: 5, timeout: 2000, clientId: 'ka-1' });
        // Aedes's own keepalive check (a setTimeout it refresh()es per packet) does not follow fake
        // time, so it is switched off for this connection; the broker still answers every PINGREQ
        clearTimeout(broker.clients['ka-1']._keepaliveTimer);
        const pings = () => parseAll(k.written).filter((p) => p.cmd === 'pingreq').length;
        mock.timers.tick(4999);
        assert.equal(pings(), 0, 'nothing before keepalive');
        k.c.publish('cp/ka', 'x', 0); // a write restarts the period
        // let the broker read it before fake time moves on (else its keepalive check drops us)
        await until(
          () => brokerEvents.some((e) => e.topic === 'cp/ka'),
          'the broker to get the publish',
          3000,
          () => mock.timers.tick(0),
        );
        mock.timers.tick(4999);
        assert.equal(pings(), 0, 'the publish restarted the period');
        mock.timers.tick(1);
        assert.equal(pings(), 1, 'PINGREQ at keepalive');
        // the broker's own setTimeout(0)s are mocked too: let those (only) run while waiting
        await until(
          () => brokerEvents.some((e) => e.ev === 'ping'),
          'the broker to see the ping: ' + JSON.stringify(brokerEvents.slice(-3)),
          3000,
          () => mock.timers.tick(0),
        );
        await until(
          () => k.written && false,
          'PINGRESP',
          100,
          () => mock.timers.tick(0),
        ).catch(() => {});
        mock.timers.tick(2000); // past the PINGRESP timeout: the PINGRESP arrived, so still up
        assert.equal(k.c.state(), 'connected');
        mock.timers.tick(3000);
        assert.equal(pings(), 2, 'next PINGREQ one keepalive after the last');
        await until(
          () => brokerEvents.filter((e) => e.ev === 'ping').length >= 2,
          'the second ping',
          3000,
          () => mock.timers.tick(0),
        );
        // now the broker's answers are not read: no PINGRESP → the connection is dead
        k.sock.pause();
        mock.timers.tick(5000);
        assert.equal(pings(), 3);
        mock.timers.tick(1999);
        assert.equal(k.c.state(), 'connected');
        mock.timers.tick(1);
        assert.deepEqual(k.states.at(-1), ['closed', 'no PINGRESP']);
      } finally {
        mock.timers.reset();
      }
    });

    it('the broker closes the connection: state closed, pending QoS 1 publishes fail', async () => {
      const k = await open({ clientId: 'to-be-kicked' });
      let err;
      // stop reading so the PUBACK cannot arrive, then the broker drops us
      k.sock.pause();
      k.c.publish('cp/kick', 'x', 1, (e) => (err = e));
      await until(() => broker.clients['to-be-kicked'], 'the broker to know the client');
      broker.clients['to-be-kicked'].close();
      k.sock.resume();
      await until(() => k.c.state() === 'closed', 'closed');
      assert.deepEqual(k.states.at(-1), ['closed', 'transport closed']);
      assert.equal(err, 'transport closed');
    });
  });

  // ---------------------------------------------------------------- a fake transport
  /** Espruino-like timers: ids reused (lowest free, from 1); clearing a fired or cleared id is recorded */
  function espruinoTimers() {
    let now = 0;
    const live = new Map();
    const bad = [];
    const api = {
      setTimeout(fn, ms) {
        let id = 1;
        while (live.has(id)) id++;
        live.set(id, { fn, at: now + ms });
        return id;
      },
      clearTimeout(id) {
        if (!live.has(id)) bad.push(id);
        live.delete(id);
      },
      advance(ms) {
        const end = now + ms;
        for (;;) {
          let next = null;
          for (const [id, t] of live) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
          if (!next) break;
          live.delete(next[0]);
          now = next[1].at;
          next[1].fn();
        }
        now = end;
      },
      live,
      bad,
    };
    return api;
  }

  function fakeClient(opts = {}) {
    const written = [];
    const states = [];
    const c = createMqttClient({ write: (s) => written.push(s), clientId: 'f', keepalive: 10, timeout: 1000, onState: (s, w) => states.push([s, w]), ...opts });
    return { c, written, states, sent: () => parseAll(written) };
  }

  describe('fake transport, Espruino-style timers', () => {
    let T, saved;
    before(() => {
      saved = [globalThis.setTimeout, globalThis.clearTimeout];
    });
    const install = () => {
      T = espruinoTimers();
      globalThis.setTimeout = T.setTimeout;
      globalThis.clearTimeout = T.clearTimeout;
    };
    after(() => {
      [globalThis.setTimeout, globalThis.clearTimeout] = saved;
    });

    it('QoS 1 is done only by the PUBACK with its id; a timeout fails it; no fired id is ever cleared', () => {
      install();
      try {
        const k = fakeClient();
        k.c.connect();
        k.c.received('\x20\x02\x00\x00');
        assert.equal(k.c.state(), 'connected');
        const done = [];
        k.c.publish('t', 'a', 1, (e) => done.push(['a', e]));
        k.c.publish('t', 'b', 1, (e) => done.push(['b', e]));
        const ids = k
          .sent()
          .filter((p) => p.cmd === 'publish')
          .map((p) => p.messageId);
        assert.equal(new Set(ids).size, 2);
        k.c.received(codec.encodePuback(ids[1] + 100)); // unknown id: ignored
        assert.deepEqual(done, []);
        k.c.received(codec.encodePuback(ids[1]));
        assert.deepEqual(done, [['b', null]]);
        k.c.received(codec.encodePuback(ids[1])); // duplicate: ignored
        T.advance(999);
        assert.deepEqual(done, [['b', null]]);
        T.advance(1);
        assert.deepEqual(done, [
          ['b', null],
          ['a', 'timeout'],
        ]);
        k.c.received(codec.encodePuback(ids[0])); // late: ignored
        assert.equal(done.length, 2);
        // pings go on for a while, with timer ids being reused all the time
        let answered = 0;
        for (let i = 0; i < 2000; i++) {
          T.advance(100);
          const n = k.sent().filter((p) => p.cmd === 'pingreq').length;
          if (n > answered) (k.c.received('\xd0\x00'), (answered = n));
        }
        assert.equal(k.c.state(), 'connected');
        assert.equal(k.sent().filter((p) => p.cmd === 'pingreq').length, 20);
        // a SUBACK id does not complete a publish and vice versa
        k.c.publish('t', 'c', 1, (e) => done.push(['c', e]));
        const idc = k
          .sent()
          .filter((p) => p.cmd === 'publish')
          .at(-1).messageId;
        k.c.received('\x90\x03' + codec.u16(idc) + '\x01');
        assert.equal(done.length, 2);
        k.c.closed();
        assert.deepEqual(done.at(-1), ['c', 'transport closed']);
        assert.deepEqual(T.bad, [], 'clearTimeout of an id that had fired or been cleared');
        assert.equal(T.live.size, 0, 'no timer left after close');
      } finally {
        [globalThis.setTimeout, globalThis.clearTimeout] = saved;
      }
    });

    it('protocol errors and missing CONNACK close the client; publish when not connected fails at once', () => {
      install();
      try {
        const k = fakeClient();
        let e0;
        k.c.publish('t', 'x', 1, (e) => (e0 = e));
        assert.equal(e0, 'not connected');
        k.c.connect();
        T.advance(1000);
        assert.deepEqual(k.states.at(-1), ['closed', 'no CONNACK']);
        k.c.connect();
        k.c.received('\x90\x03\x00\x01\x00'); // SUBACK before CONNACK
        assert.deepEqual(k.states.at(-1), ['closed', 'expected CONNACK, got type 9']);
        k.c.connect();
        k.c.received('\x20\x02\x00\x00\x30\xff\xff\xff\xff\x01');
        assert.deepEqual(k.states.at(-1), ['closed', 'protocol error: malformed remaining length']);
        k.c.connect();
        k.c.received('\x20\x02\x01\x00');
        assert.deepEqual(k.states.at(-1), ['connected', 'session present']);
        k.c.received('\x34\x05\x00\x01t\x00\x07');
        assert.deepEqual(k.states.at(-1), ['closed', 'protocol error: QoS 2 PUBLISH']);
        assert.deepEqual(T.bad, []);
        assert.equal(T.live.size, 0);
      } finally {
        [globalThis.setTimeout, globalThis.clearTimeout] = saved;
      }
    });
  });

  // ---------------------------------------------------------------- bundled, on the interpreter
  // One scenario through the bundle: CONNECT, CONNACK, QoS 1 publish + PUBACK, SUBSCRIBE + SUBACK,
  // an incoming QoS 1 PUBLISH (→ PUBACK), DISCONNECT. Only ASCII crosses the console (base64).
  const SCENARIO =
    'global.__w=[];global.__ev=[];global.__c=createMqttClient({write:function(s){__w.push(btoa(s));},clientId:"esp-1",keepalive:30,' +
    'onMessage:function(t,p,q){__ev.push(["msg",t,btoa(p),q]);},onState:function(s,w){__ev.push(["state",s,w]);}});' +
    '__c.connect();__c.received(atob("IAIAAA=="));' + // CONNACK 0
    '__c.publish("cp/r","\\x00\\xff",1,function(e){__ev.push(["pub",e]);});' +
    '__c.received(atob("QAIAAQ=="));' + // PUBACK 1
    '__c.subscribe("cp/cmd",1,function(e,g){__ev.push(["sub",e,g]);});' +
    '__c.received(atob("kAMAAgE="));' + // SUBACK 2 [1]
    '__c.received(atob("MgwABmNwL2NtZAAJaGk="));' + // PUBLISH qos1 id 9 "cp/cmd" "hi"
    '__c.disconnect();JSON.stringify({w:__w,ev:__ev})';
  const SCENARIO_EV = [
    ['state', 'connecting', ''],
    ['state', 'connected', ''],
    ['pub', null],
    ['sub', null, [1]],
    ['msg', 'cp/cmd', Buffer.from('hi').toString('base64'), 1],
    ['state', 'closed', 'disconnect'],
  ];
  function checkScenario(out) {
    const r = JSON.parse(out);
    assert.deepEqual(r.ev, SCENARIO_EV);
    const pk = parseAll(r.w.map((s) => Buffer.from(s, 'base64').toString('latin1')));
    assert.deepEqual(
      pk.map((p) => p.cmd),
      ['connect', 'publish', 'subscribe', 'puback', 'disconnect'],
    );
    assert.equal(pk[0].clientId, 'esp-1');
    assert.equal(pk[1].messageId, 1);
    assert.deepEqual([...pk[1].payload], [0, 0xff]);
    assert.deepEqual(pk[2].subscriptions, [{ topic: 'cp/cmd', qos: 1 }]);
    assert.equal(pk[3].messageId, 9);
  }

  let bundle;
  before(async () => {
    bundle = await bundleModule('firmware/mqtt-client/client.ts');
  });

  it('the scenario is right in Node (the source, through tsx)', () => {
    // same scenario, same expectations, evaluated with the module's export as a global
    globalThis.createMqttClient = createMqttClient;
    globalThis.btoa ??= (s) => Buffer.from(s, 'latin1').toString('base64');
    try {
      checkScenario((0, eval)(SCENARIO));
    } finally {
      delete globalThis.createMqttClient;
      delete globalThis.__c;
      delete globalThis.__w;
      delete globalThis.__ev;
    }
  });

  it('host runtime: the bundled client (codec included) runs the scenario', () => {
    const device = createEspruino({ clock: createClock({ mode: 'virtual' }) });
    device.load(bundle.code, 'mqtt-client.js');
    checkScenario(device.eval(SCENARIO));
    console.log('#', `client.ts bundle (with the codec it uses): ${bundle.bytes} bytes`);
  });

  describe('real Espruino interpreter (ESPRUINO_BIN)', () => {
    const skip = hasRealEspruino() ? false : 'ESPRUINO_BIN is not set (or not executable)';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code: bundle.code });
    });
    after(async () => {
      if (esp) await esp.stop();
    });
    itUnless(skip, 'the bundled client runs the scenario; its timers fire and are cleared cleanly', async () => {
      checkScenario(await esp.eval(SCENARIO));
      // keepalive 1 s with a 300 ms timeout and nobody answering: PINGREQ, then "no PINGRESP"
      await esp.eval(
        'global.__w2=[];global.__s2=[];global.__k=createMqttClient({write:function(s){__w2.push(btoa(s));},clientId:"k",keepalive:1,timeout:300,' +
          'onState:function(s,w){__s2.push(s+":"+w);}});__k.connect();__k.received(atob("IAIAAA=="));1',
      );
      await new Promise((r) => setTimeout(r, 1800));
      const r = JSON.parse(await esp.eval('JSON.stringify({w:__w2,s:__s2})'));
      assert.deepEqual(r.s, ['connecting:', 'connected:', 'closed:no PINGRESP']);
      assert.deepEqual(
        parseAll(r.w.map((s) => Buffer.from(s, 'base64').toString('latin1'))).map((p) => p.cmd),
        ['connect', 'pingreq'],
      );
      const mem = await esp.memory();
      console.log('#', `JsVars: usage ${mem.usage} of ${mem.total}; console errors: ${/Uncaught|ERROR/.test(esp.console) ? 'yes' : 'none'}`);
      assert.ok(!/Uncaught|ERROR/.test(esp.console), esp.console.slice(-500));
    });
  });
});
