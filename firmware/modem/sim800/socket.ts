// SIM800 TCP through the CIP stack in multi-link, manual-receive mode (SIM800 AT manual ch. 8;
// docs/modem-facts.md §B.2): link 0 only. The modem's own framing is odd and the driver hides it
// (the commands, their answers and times: commands.ts):
//   CIPSTART  OK, then "0, CONNECT OK" | "0, CONNECT FAIL" | "0, ALREADY CONNECT"; "0, CLOSED"
//             meanwhile (the context dropped, +PDP: DEACT follows) ends it too
//   CIPSEND   "> " prompt, exactly len bytes, then "DATA ACCEPT:0,len" (quick send, CIPQSEND=1,
//             set by net.ts) | "0, SEND FAIL"; "0, SEND OK" (CIPQSEND=0) is also taken
//   receive   "+CIPRXGET: 1,0" once, then AT+CIPRXGET=2,0,n gives "+CIPRXGET: 2,0,<got>,<left>"
//             followed by <got> raw bytes and OK
//   close     "0, CLOSED" from the peer; CIPCLOSE on a closed link is "+CME ERROR: operation not allowed"
// Real modems print "0, CLOSED" with a space, the manual "0,CLOSED": both are accepted.
// RAM: one URC handler for all three URCs; the commands' callbacks live only while they run.

import type { At } from '../../at/engine';
import type { Socket } from '../../mqtt-client/socket';
import { errorText } from '../../at/errors';
import { linkEvent, cipSsl, cipStart, cipSend, cipRxGet, cipClose, MAX_SEND } from './commands';

export { linkEvent };

export function createSim800Socket(at: At): Socket {
  let reading = false;
  let open = false;
  // "+CIPRXGET: 1,0" and "0, CLOSED" come together when the peer sends its last bytes and closes
  // (a TLS alert, an MQTT CONNACK refusal): the close waits until those bytes are read and given
  let closing = '';
  function closed(why: string) {
    closing = '';
    if (!open) return; // close() was asked for meanwhile
    open = false;
    sock.onClose(why);
  }

  // '+CIPRXGET: 1,0' (data waiting: read it), '0, CLOSED', '+PDP: DEACT'
  function urc(line: string) {
    if (line.charAt(1) == 'C') {
      if (reading) return;
      reading = true;
      return at.send(
        cipRxGet(function (err, lines) {
          reading = false;
          if (err) return closing ? closed(closing) : undefined;
          // the header, then its bytes; a "+CIPRXGET: 1,0" that came meanwhile means more arrived
          let again = false;
          for (let i = 0; i < lines.length; i++) {
            if (lines[i].indexOf('+CIPRXGET: 2,') == 0) {
              const head = lines[i].split(',');
              if (parseInt(head[2], 10) > 0) sock.onData(lines[++i]);
              if (parseInt(head[3], 10) > 0) again = true;
            } else if (lines[i].indexOf('+CIPRXGET: 1,') == 0) again = true;
          }
          if (again) urc(line);
          else if (closing) closed(closing);
        }),
      );
    }
    const pdp = line.charAt(1) == 'P';
    if (open && (pdp || linkEvent(line) == 'CLOSED')) {
      const why = pdp ? 'the data connection was dropped (+PDP: DEACT)' : 'closed by the server';
      if (reading) closing = why;
      else closed(why);
    }
  }
  at.on('+CIPRXGET: 1,0', urc);
  at.on('0,', urc);
  at.on('+PDP: DEACT', urc);

  const sock: Socket = {
    onData: function () {},
    onClose: function () {},
    open: function (host, port, tls, cb) {
      at.send({
        at: cipSsl(tls),
        cb: function (err) {
          if (err) return cb(errorText(err));
          at.send(
            cipStart(host, port, function (err) {
              open = !err;
              closing = '';
              cb(err ? 'could not connect to ' + host + ':' + port + (tls ? " with the modem's TLS (TLS 1.0, no SNI)" : '') : null);
            }),
          );
        },
      });
    },
    send: function (data, cb) {
      if (!open) return cb('not connected');
      at.send(
        cipSend(data.substr(0, MAX_SEND), function (err) {
          if (err) return cb(errorText(err));
          if (data.length > MAX_SEND) return sock.send(data.substr(MAX_SEND), cb);
          cb(null);
        }),
      );
    },
    close: function (cb) {
      open = false;
      at.send(
        cipClose(function () {
          cb();
        }),
      );
    },
  };
  return sock;
}
