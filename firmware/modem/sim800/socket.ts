// SIM800 TCP through the CIP stack in multi-link, manual-receive mode (SIM800 AT manual ch. 8;
// docs/modem-facts.md §B.2): link 0 only. The modem's own framing is odd and the driver hides it:
//   CIPSTART  OK, then "0, CONNECT OK" | "0, CONNECT FAIL" | "0, ALREADY CONNECT"; "0, CLOSED"
//             meanwhile (the context dropped, +PDP: DEACT follows) ends it too
//   CIPSEND   "> " prompt, exactly len bytes, then "DATA ACCEPT:0,len" (quick send, CIPQSEND=1,
//             set by net.ts) | "0, SEND FAIL"; "0, SEND OK" (CIPQSEND=0) is also taken
//   receive   "+CIPRXGET: 1,0" once, then AT+CIPRXGET=2,0,n gives "+CIPRXGET: 2,0,<got>,<left>"
//             followed by <got> raw bytes and OK
//   close     "0, CLOSED" from the peer; CIPCLOSE on a closed link is "+CME ERROR: operation not allowed"
// Real modems print "0, CLOSED" with a space, the manual "0,CLOSED": both are accepted.

import type { At } from '../../at/engine';
import type { Socket } from '../../mqtt-client/socket';
import { errorText } from '../../at/errors';

const MAX_SEND = 1460; // per CIPSEND (AT+CIPSEND? reports 1460 on a connected link)

/** "0, SEND OK" and "0,SEND OK" → "SEND OK" for link 0; '' for anything else. */
export function linkEvent(line: string): string {
  if (line.indexOf('0,') != 0) return '';
  return line.substr(2).trim();
}

export function createSim800Socket(at: At): Socket {
  let reading = false;
  let open = false;

  function readMore() {
    if (reading) return;
    reading = true;
    at.send({
      at: 'AT+CIPRXGET=2,0,' + MAX_SEND, // manual §8.2.26: no Max Response Time found [unverified]: the engine's default (9 s)
      raw: function (line) {
        // '+CIPRXGET: 2,0,<got>,<left>': the raw bytes come right after this line
        const f = line.split(',');
        return f.length >= 4 ? parseInt(f[2], 10) : 0;
      },
      cb: function (err, lines) {
        reading = false;
        if (err) return;
        // the header, then its bytes; a "+CIPRXGET: 1,0" that came meanwhile means more arrived
        let again = false;
        for (let i = 0; i < lines.length; i++) {
          if (lines[i].indexOf('+CIPRXGET: 2,') == 0) {
            const head = lines[i].split(',');
            if (parseInt(head[2], 10) > 0) sock.onData(lines[++i]);
            if (parseInt(head[3], 10) > 0) again = true;
          } else if (lines[i].indexOf('+CIPRXGET: 1,') == 0) again = true;
        }
        if (again) readMore();
      },
    });
  }

  at.on('+CIPRXGET: 1,0', readMore);
  at.on('0,', function (line) {
    const ev = linkEvent(line);
    if (ev == 'CLOSED' && open) {
      open = false;
      sock.onClose('closed by the server');
    }
  });
  at.on('+PDP: DEACT', function () {
    if (!open) return;
    open = false;
    sock.onClose('the data connection was dropped (+PDP: DEACT)');
  });

  const sock: Socket = {
    onData: function () {},
    onClose: function () {},
    open: function (host, port, tls, cb) {
      // CIPSSL applies to connections opened after it: TLS 1.0 without SNI on this modem
      // no Max Response Time found for CIPSSL [unverified]; a local setting: the engine's default (9 s)
      at.send({ at: 'AT+CIPSSL=' + (tls ? 1 : 0), cb: function (err) {
        if (err) return cb(errorText(err));
        at.send({
          at: 'AT+CIPSTART=0,"TCP","' + host + '",' + port,
          // SIM800 AT manual V1.09 §8.2.2 Max Response Time: "When mode is multi-IP state, the
          // max response time75 seconds" (for the OK and for the result after it)
          ms: 75000,
          holdOk: true,
          doneMs: 75000,
          fin: function (line) {
            const ev = linkEvent(line);
            return ev == 'CONNECT OK' || ev == 'ALREADY CONNECT' ? 1 : ev == 'CONNECT FAIL' || ev == 'CLOSE OK' || ev == 'CLOSED' ? -1 : 0;
          },
          cb: function (err) {
            open = !err;
            cb(err ? 'could not connect to ' + host + ':' + port + (tls ? ' with the modem\'s TLS (TLS 1.0, no SNI)' : '') : null);
          },
        });
      } });
    },
    send: function (data, cb) {
      if (!open) return cb('not connected');
      const piece = data.substr(0, MAX_SEND);
      at.send({
        at: 'AT+CIPSEND=0,' + piece.length,
        data: piece,
        // the manual's Max Response Time (§8.2.3) is for CIPQSEND=0 only ("after 645 seconds,
        // CLOSE will be reported"); quick send answers once the modem has the bytes: 10 s is for
        // the "> " prompt (LilyGO waits 10 s) and the bytes themselves
        ms: 10000,
        fin: function (line) {
          const ev = linkEvent(line);
          return ev == 'SEND OK' || line.indexOf('DATA ACCEPT:0,') == 0 ? 1 : ev == 'SEND FAIL' ? -1 : 0;
        },
        cb: function (err) {
          if (err) return cb(errorText(err));
          if (data.length > MAX_SEND) return sock.send(data.substr(MAX_SEND), cb);
          cb(null);
        },
      });
    },
    close: function (cb) {
      open = false;
      at.send({
        at: 'AT+CIPCLOSE=0', // manual §8.2.6 Max Response Time "-": the engine's default (9 s)
        fin: function (line) {
          return linkEvent(line) == 'CLOSE OK' ? 1 : 0;
        },
        // already closed answers "+CME ERROR: operation not allowed": closed either way
        cb: function () {
          cb();
        },
      });
    },
  };
  return sock;
}
