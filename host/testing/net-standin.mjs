// A Node preload (NODE_OPTIONS="--import <this file's URL>") for the README test: a command line
// tool run as the README shows it (`npx mqtt sub -h f1a2b3c4.s1.eu.hivemq.cloud -p 8883 …`,
// `npm run ota …`) reaches the local broker standing in for the cloud instead of the internet.
// CELLPUB_NET_STANDIN is JSON: { "<host>:<port>": { "port": <local port>, "ca": "<PEM file>" } }.
// A connection to a listed host and port goes to 127.0.0.1:<local port>; for TLS the server name
// (SNI, and the name the certificate is checked against) stays the cloud's, and the test CA is
// trusted in place of the public roots. Nothing else changes. Host only, tests only.

import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const map = JSON.parse(process.env.CELLPUB_NET_STANDIN || '{}');

function rewrite(opts, isTls) {
  const host = opts.host ?? opts.hostname ?? 'localhost';
  const target = map[`${host}:${opts.port}`];
  if (!target) return opts;
  const out = { ...opts, host: '127.0.0.1', port: target.port };
  delete out.hostname;
  if (isTls) {
    out.servername = opts.servername || host;
    if (target.ca) out.ca = readFileSync(target.ca, 'utf8');
  }
  return out;
}

// connect(options[, cb]) and connect(port[, host][, options][, cb]), as Node takes them
function normalize(args) {
  if (args[0] !== null && typeof args[0] === 'object') return [args[0], args.slice(1)];
  const [port, ...rest] = args;
  const opts = { port };
  if (typeof rest[0] === 'string') opts.host = rest.shift();
  if (rest[0] !== null && typeof rest[0] === 'object') Object.assign(opts, rest.shift());
  return [opts, rest];
}

const tlsConnect = tls.connect;
tls.connect = function (...args) {
  const [opts, rest] = normalize(args);
  return tlsConnect.call(this, rewrite(opts, true), ...rest);
};
for (const name of ['connect', 'createConnection']) {
  const orig = net[name];
  net[name] = function (...args) {
    if (typeof args[0] === 'string') return orig.apply(this, args); // a Unix socket path
    const [opts, rest] = normalize(args);
    return orig.call(this, rewrite(opts, false), ...rest);
  };
}
