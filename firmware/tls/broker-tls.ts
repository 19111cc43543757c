// cellpub's TLS for the configured broker (SIM800 boards, broker.tlsStack "cellpub"): the kit of
// TypeScript primitives the client runs on, the trust anchors, the kept session and the clock.
//
// Anchors: the certificates of broker.ca, which the build wrote to Storage as a PEM ('cp.' +
// caName), plus the intermediates a server's chain was verified through before ('cp.tlsi', their
// DER one after another). Once an intermediate (Let's Encrypt's R10..R14 for HiveMQ Cloud) has been
// checked against the root, later handshakes check the leaf against it directly and never run the
// root's RSA-4096 again; a new intermediate (the CA rotates them) is checked against the root once.
// The session (master secret, ticket) is kept in 'cp.tlss' so that a reboot or deep sleep still
// resumes without any public-key operation. When the server no longer resumes it (its session
// cache or ticket key expired), the full handshake still skips the chain's RSA checks if the
// server sends the same certificates as the chain verified last ('cp.tlsc': a hash of host and
// chain, the leaf's public key and the dates): then only X25519 and the key exchange signature run.
//
// Randomness: E.hwRand() is the ESP32's hardware RNG (esp_random), whose output is truly random
// only while the radio runs; it is stirred through SHA-256 with the clock and a chained pool, so
// even a weak source gives no repeated client random or private key within a boot.

import type { Socket } from '../mqtt-client/socket';
import { config } from '../target';
import { storage, hash } from '../platform';
import { log, timeKnown } from '../log';
import { storedPem } from '../store/secrets';
import { createTlsSocket, prepare, TlsKit } from './client';
import { parseCert, verifyChain, Cert } from './x509';
import { tlv } from './der';
import { rsaVerify } from './rsa';
import { x25519 } from './x25519';
import { createGcm } from './gcm';
import { prf } from './prf';

var LEARNED = 'cp.tlsi';
var SESSION = 'cp.tlss';
var CHECKED = 'cp.tlsc';
var pool = '';

function random(n: number): string {
  var out = '';
  while (out.length < n) {
    var s = pool + getTime();
    for (var i = 0; i < 8; i++) s += E.hwRand() + ',';
    pool = hash('SHA256', s);
    out += hash('SHA256', 'out' + pool);
  }
  return out.substr(0, n);
}

/** The DER certificates one after another in s (a torn tail is given as it is: its parse says so). */
function ders(s: string): string[] {
  var out: string[] = [];
  for (var p = 0, e = 0; p < s.length;) {
    try {
      e = tlv(s, p, s.length).e;
    } catch (err) {
      e = s.length;
    }
    out.push(s.substring(p, e));
    p = e;
  }
  return out;
}

/** The anchors, parsed one per slice (a parse is ≈ 2.7 ms native, bench/tls.mjs), then done(anchors) from a timer. */
function anchors(caName: string, done: (a: Cert[]) => void) {
  var list: string[] | null = null;
  var out: Cert[] = [];
  var j = 0;
  function next() {
    if (!list) {
      // the PEM's base64 as it is: atob skips line breaks (Espruino 2v29, checked; Node's too)
      var pem = (storedPem(caName) || '').split('-----BEGIN CERTIFICATE-----');
      list = ders(storage().read(LEARNED) || '');
      for (var i = 1; i < pem.length; i++) list.push(atob(pem[i].split('-----')[0]));
      return void setTimeout(next, 0);
    }
    if (j >= list.length) return done(out);
    try {
      out.push(parseCert(list[j++]));
    } catch (e) {
      log('tls: a certificate in broker.ca cannot be read (' + (e as Error).message + '); flash broker.ca again');
    }
    setTimeout(next, 0);
  }
  setTimeout(next, 0);
}

var kit: TlsKit = {
  random: random,
  hash: hash,
  prf: prf,
  gcm: createGcm,
  x25519: x25519,
  rsaVerify: rsaVerify,
  verifyChain: function () {}, // set by brokerTls: it needs the broker's CA
};

/** Starts this boot's X25519 key pair in slices, so the first handshake need not wait for it. */
export function prepareTls() {
  prepare(kit);
}

/** The TLS socket over plain for the configured broker. */
export function brokerTls(plain: Socket): Socket {
  var b = config.broker;
  kit.verifyChain = function (chain, host, now, done) {
    // The same certificates as last time (a leaf lives 60-90 days): their signatures were checked
    // then, so only the dates are looked at again; a new chain is checked in full.
    var id = btoa(hash('SHA256', host + '\0' + chain.join('')));
    var seen = storage().readJSON(CHECKED, true);
    if (seen && seen.id == id && (!now || (now >= seen.from && now <= seen.to))) {
      log('tls: the server sent the certificates checked before');
      return done(null, { key: { n: atob(seen.n), e: seen.e } });
    }
    // each anchor's parse and the chain's own start (parse, names) in slices of their own
    // (bench/tls.mjs: ~20 ms native all together)
    anchors(b.caName!, function (a) {
      check(chain, host, now, a, id, done);
    });
  };
  function check(chain: string[], host: string, now: number, a: Cert[], id: string, done: (err: string | null, leaf?: Cert) => void) {
    var S = storage();
    verifyChain(chain, host, now, a, rsaVerify, function (err, leaf, learned) {
      if (learned && learned.length) {
        var known = S.read(LEARNED) || '';
        var add = learned.join('');
        // at most a few intermediates: a CA rotating them is the only way in, so keep the newest
        if (known.indexOf(add) < 0) S.write(LEARNED, (known.length > 6000 ? '' : known) + add);
      }
      if (err || !leaf || !leaf.key) return done(err, leaf);
      // the dates every certificate sent shares (those off the path too: at worst a re-check),
      // one parse per slice
      var lf = leaf;
      var from = lf.from;
      var to = lf.to;
      var i = 1;
      function dates() {
        if (i < chain.length) {
          try {
            var c = parseCert(chain[i++]);
            if (c.from > from) from = c.from;
            if (c.to < to) to = c.to;
          } catch (e) {
            to = 0; // an extra certificate cellpub cannot read: check this chain in full every time
          }
          return void setTimeout(dates, 0);
        }
        S.writeJSON(CHECKED, { id: id, n: btoa(lf.key!.n), e: lf.key!.e, from: from, to: to });
        setTimeout(function () {
          done(null, lf);
        }, 0);
      }
      setTimeout(dates, 0);
    });
  }
  return createTlsSocket(
    plain,
    {
      host: b.host,
      now: function () {
        return timeKnown() ? Math.floor(Date.now() / 1000) : 0;
      },
      anyTime: !!b.anyTime,
      log: log,
      load: function () {
        return storage().read(SESSION);
      },
      save: function (s: string) {
        if (s) storage().write(SESSION, s);
        else storage().erase(SESSION);
      },
    },
    kit,
  );
}
