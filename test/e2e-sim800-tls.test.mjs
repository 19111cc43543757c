// End to end on the shipped T-Call SIM800L bundle (build.mjs output, unmodified) with broker
// preset "hivemq-cloud": cellpub's own TLS 1.2 client (firmware/tls/) over the modem's plain CIP
// socket, to a HiveMQ-Cloud-like broker (TLS 1.2 only, ECDHE-RSA only, SNI required, session ids +
// tickets) whose chain is root (RSA 4096) → intermediate → wildcard leaf (makeChainPki). broker.ca
// is the ROOT's PEM file, as a user gives ISRG Root X1.
//
// How the pieces meet (host/testing/rig.mjs, host/sim/sim800/cip.mjs):
//   - AT+CIPSTART=0,"TCP","c0ffee42.s1.eu.hivemq.cloud",8883: the SIM800 simulator resolves the
//     host through its `dns` option ({ name: { host, port } }, no real DNS). The rig maps
//     CLUSTER_HOST to its broker's TLS port; a test that passes modemOptions.dns replaces the whole
//     map, and cip.mjs keeps a reference to that object, so changing it later re-routes the NEXT
//     CIPSTART.
//   - Time: the network's UTC at virtual 0 is modemOptions.clockUtc (default 2025-01-01); with
//     AT+CLTS=1 *PSUTTZ comes 1 s after registration and AT+CCLK? then gives it. makeChainPki's
//     good certificates are valid from 2024-01-01 for ten years, so they hold at either epoch.

import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRig, CLUSTER_HOST, TEST_USER } from '../host/testing/rig.mjs';
import { build } from '../build.mjs';
import { BAD_SERVERS, HIVEMQ_LIKE_TLS, tlsTestPki } from '../host/testing/tls-servers.mjs';

// the device log's line for a refused handshake: one clear reason, never a key or secret
const REFUSED = /tls c0ffee42\.s1\.eu\.hivemq\.cloud: /;
const REASONS = {
  'wrong-host': /the server's certificate is for .*, not c0ffee42\.s1\.eu\.hivemq\.cloud/,
  'unknown-ca': /does not end at a CA in broker\.ca/,
  expired: /expired on 2024-06-30/,
  'not-yet-valid': /is not valid before/,
  'tls13-only': /does not speak TLS 1\.2/,
  'cipher-mismatch': /share no cipher suite/,
  'tampered-ske': /key exchange signature does not verify/,
};

const pki = tlsTestPki(); // root RSA 4096 (makeChainPki({ rootBits: 2048 }) for a cheaper root)
const caDir = mkdtempSync(join(tmpdir(), 'cellpub-e2e-tls-'));
const ROOT_FILE = join(caDir, 'test-root.pem');
writeFileSync(ROOT_FILE, pki.rootPem);

/** HiveMQ Cloud preset on the T-Call SIM800L, pointed at the test root. */
const HIVEMQ = { cloud: 'hivemq', config: { broker: { ca: ROOT_FILE }, intervalSeconds: 60 } };
/** The rig's broker: the HiveMQ-like TLS 1.2 listener with the chain. */
const brokerOptions = { pki: { ...pki, caPem: pki.rootPem }, ...HIVEMQ_LIKE_TLS };

async function withRig(opts, fn) {
  const rig = await createRig({ board: 't-call-sim800l', ...HIVEMQ, brokerOptions, ...opts });
  try {
    rig.start();
    await fn(rig);
  } finally {
    await rig.close();
  }
}

const numbers = (rig) => rig.readings().map((m) => JSON.parse(m.text).n);
const FIRST_CONNECT_MS = 900000; // virtual time for boot, network and a full handshake, with room

describe('e2e-sim800-tls.test.mjs', function () {
  this.timeout(600000);

  it('T-Call SIM800L → HiveMQ Cloud preset: TLS 1.2 with SNI, verified chain, readings at the broker', async () => {
    await withRig({ modemOptions: { clockUtc: Date.now() } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 2, FIRST_CONNECT_MS), rig.explain('fewer than two readings over TLS'));
      const conn = rig.broker.events.find((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
      assert.ok(conn, rig.explain('no accepted connect'));
      assert.deepEqual(
        [conn.transport, conn.tlsVersion, conn.cipher, conn.servername, conn.username],
        ['tls', 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', CLUSTER_HOST, TEST_USER.name],
      );
      const t = rig.modem.transcript.text();
      assert.match(t, /AT\+CIPSTART=0,"TCP","c0ffee42\.s1\.eu\.hivemq\.cloud",8883/);
      assert.doesNotMatch(t, /AT\+CIPSSL=1/, "the modem's own TLS 1.0 is not used");
      assert.ok(!rig.device.log.join('\n').includes(TEST_USER.password), 'the password never reaches the log');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('a reconnect after the broker drops the link resumes the TLS session (no public-key operation)', async () => {
    await withRig({}, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, FIRST_CONNECT_MS), rig.explain('no first reading'));
      rig.broker.aedes.clients['station-1'].close();
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 300000), rig.explain('no reading after the drop'));
      const accepted = rig.broker.events.filter((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
      assert.equal(accepted.length, 2);
      assert.deepEqual(
        accepted.map((e) => e.resumed),
        [false, true],
        'the second handshake resumed the session',
      );
      assert.ok(
        rig.device.log.some((l) => /tls c0ffee42\.s1\.eu\.hivemq\.cloud: TLS 1\.2 session resumed/.test(l)),
        rig.explain('the log does not say it resumed'),
      );
    });
  });

  it('a broker that resumes nothing: every reconnect is a full handshake, but the chain verified before is not checked again', async () => {
    await withRig({ brokerOptions: { ...brokerOptions, sessionIds: false, tickets: false } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, FIRST_CONNECT_MS), rig.explain('no first reading'));
      const again = /tls: the server sent the certificates checked before/;
      assert.ok(!rig.device.log.some((l) => again.test(l)), 'the first chain is checked in full');
      rig.broker.aedes.clients['station-1'].close();
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 300000), rig.explain('no reading after the drop'));
      const accepted = rig.broker.events.filter((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
      assert.deepEqual(
        accepted.map((e) => e.resumed),
        [false, false],
        'two full handshakes',
      );
      assert.ok(
        rig.device.log.some((l) => again.test(l)),
        rig.explain('the second full handshake checked the same chain again'),
      );
    });
  });

  it('the intermediate verified at the first connect is kept as an anchor: with broker.ca and the checked-chain record gone, a full handshake still verifies the leaf against it', async () => {
    await withRig({ brokerOptions: { ...brokerOptions, sessionIds: false, tickets: false } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, FIRST_CONNECT_MS), rig.explain('no first reading'));
      // only cp.tlsi (the learned intermediate, DER) is left to anchor the chain
      rig.device.eval(`(function (S) { S.erase('cp.tlsc'); S.write('cp.${rig.config.broker.caName}', ' '); })(require('Storage'))`);
      rig.broker.aedes.clients['station-1'].close();
      const n = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > n, 300000), rig.explain('no reading after the drop'));
      const accepted = rig.broker.events.filter((e) => e.clientId === 'station-1' && e.outcome === 'accepted');
      assert.deepEqual(
        accepted.map((e) => e.resumed),
        [false, false],
        'two full handshakes',
      );
      assert.ok(
        !rig.device.log.some((l) => /certificates checked before|cannot be read|refused/.test(l)),
        rig.explain('the chain was not checked against the learned intermediate'),
      );
    });
  });

  for (const [kind, start] of Object.entries(BAD_SERVERS)) {
    it(`refused (${kind}): a clear reason in the log, nothing in plaintext, readings kept in flash and sent once a good server answers`, async () => {
      const bad = await start({ pki });
      const dns = { [CLUSTER_HOST]: bad.address }; // the modem resolves the cluster name to the bad server
      try {
        await withRig({ modemOptions: { dns } }, async (rig) => {
          const refused = () => rig.device.log.filter((l) => REFUSED.test(l));
          assert.ok(await rig.until(() => refused().length >= 1, FIRST_CONNECT_MS), rig.explain(`${kind}: no refusal in the log`));
          assert.match(refused()[0], REASONS[kind], rig.explain(`${kind}: the reason is not named`));
          // let readings pile up through a few more attempts
          await rig.until(() => false, 240000);
          assert.equal(rig.readings().length, 0);
          assert.equal(bad.broker.received.length, 0, 'the bad server got no reading');
          assert.ok(!bad.broker.events.some((e) => e.outcome === 'accepted'), 'no MQTT session with the bad server');
          for (const s of ['"t":25.08', TEST_USER.password, '\x00\x04MQTT', rig.config.topics.telemetry]) {
            assert.equal(bad.proxy.sawPlaintext(s), false, `${JSON.stringify(s)} crossed the wire in plaintext`);
          }
          const t = rig.modem.transcript.text();
          assert.doesNotMatch(t, /AT\+CIPSSL=1|AT\+CIPSTART=\d,"TCP","[^"]*",1883/, 'no fallback to the modem TLS or plain MQTT');
          if (kind === 'tampered-ske')
            assert.ok(
              bad.proxy.connections.some((c) => c.tampered),
              'the proxy did tamper',
            );
          // the readings were kept (flash queue): once the name leads to the good broker they all arrive, in order
          dns[CLUSTER_HOST] = { host: rig.broker.host, port: rig.broker.tlsPort };
          assert.ok(await rig.until(() => numbers(rig).length >= 4, 900000), rig.explain('the kept readings never arrived'));
          const got = numbers(rig);
          assert.deepEqual(
            got,
            got.map((_, i) => i + 1),
            'every reading from n = 1, none lost',
          );
        });
      } finally {
        await bad.close();
      }
    });
  }

  it('refused when the network never gives the time (dates cannot be checked), unless broker.allowUnknownTime says connect anyway', async () => {
    await withRig({ modemOptions: { network: { nitz: false } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.device.log.some((l) => REFUSED.test(l)), FIRST_CONNECT_MS), rig.explain('no refusal'));
      assert.match(
        rig.device.log.find((l) => REFUSED.test(l)),
        /the time is not known yet.*set broker\.allowUnknownTime/,
      );
      assert.equal(rig.readings().length, 0);
    });
    await withRig({ modemOptions: { network: { nitz: false } }, config: { broker: { ca: ROOT_FILE, allowUnknownTime: true } } }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, FIRST_CONNECT_MS), rig.explain('no reading with allowUnknownTime'));
    });
  });

  // ---- mutation: SNI removed --------------------------------------------------------------------
  // The config cannot turn SNI off (next test); so the bundle is changed where the ClientHello
  // leaves server_name out for an IPv4 literal (handshake.ts: isIp(host) ? '' : server_name):
  // "is an IP" becomes always true. The HiveMQ-like front then answers unrecognized_name(112).
  const SNI_MUTATION = /\w+\(\w+\)(?=\?"":\w+\(0,\w+\(\w+\.length\+3\))/g; // isIp(host) before ? '' : ext(0, u16(host.length + 3) …

  it('build: broker.sni false is refused for HiveMQ Cloud on the T-Call SIM800L', async () => {
    await assert.rejects(
      build({
        board: 't-call-sim800l',
        config: { apn: 'internet', broker: { preset: 'hivemq-cloud', host: CLUSTER_HOST, username: 'u', password: 'p', ca: ROOT_FILE, sni: false } },
        configDir: caDir,
        outFile: false,
      }),
      /broker\.sni: cellpub's TLS always sends the server name/,
    );
  });

  it('mutation: with the SNI taken out of the bundle the broker refuses (unrecognized_name) and no reading arrives', async () => {
    let mutated = 0;
    const mutate = (code) => code.replace(SNI_MUTATION, () => (mutated++, '!0'));
    await withRig({ mutate }, async (rig) => {
      assert.equal(mutated, 1, 'the mutation found the one place the server name is given');
      assert.ok(
        await rig.until(() => rig.broker.events.some((e) => e.outcome === 'no-sni'), FIRST_CONNECT_MS),
        rig.explain('the front saw no SNI-less ClientHello'),
      );
      await rig.until(() => false, 120000);
      assert.equal(rig.readings().length, 0);
      assert.ok(
        rig.device.log.some((l) => REFUSED.test(l) && /does not know the name c0ffee42\.s1\.eu\.hivemq\.cloud \(SNI\)/.test(l)),
        rig.explain('the alert is not in the log'),
      );
    });
  });
});
