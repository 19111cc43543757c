// Date in the firmware's context follows the device RTC (getTime()*1000, set with setTime) instead
// of the host's wall clock, and local time is UTC shifted by E.setTimeZone(hours) (default 0), not
// the host's time zone (jswrap_date.c). Only the methods jswrap_date.c defines are kept (no Date.UTC,
// no toLocale*, no setUTC*). Strings are parsed by V8's Date.parse (host-TZ rules for strings
// without a zone: documented approximation).

function dateFactory(RealDate, nowMs, tzMinutes) {
  var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var UTC = RealDate.UTC;
  var P = RealDate.prototype;
  var getTime = P.getTime;
  var setTime = P.setTime;
  function shifted(d) {
    return new RealDate(getTime.call(d) + tzMinutes() * 60000);
  }
  function Date(a, b, c, d, e, f, g) {
    var n = arguments.length;
    var ms;
    if (n === 0) ms = nowMs();
    else if (n === 1) ms = a instanceof RealDate ? getTime.call(a) : typeof a === 'string' ? RealDate.parse(a) : Number(a);
    else ms = UTC(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? g : 0) - tzMinutes() * 60000;
    var r = new RealDate(ms);
    Object.setPrototypeOf(r, Date.prototype);
    return r;
  }
  Date.prototype = P;
  P.constructor = Date;
  Date.now = function now() {
    return nowMs();
  };
  Date.parse = function parse(s) {
    return RealDate.parse(s);
  };
  var keep = [
    'constructor',
    'getTime',
    'valueOf',
    'setTime',
    'toISOString',
    'toJSON',
    'getUTCHours',
    'getUTCMinutes',
    'getUTCSeconds',
    'getUTCMilliseconds',
    'getUTCDay',
    'getUTCDate',
    'getUTCMonth',
    'getUTCFullYear',
  ];
  var names = Object.getOwnPropertyNames(P);
  for (var i = 0; i < names.length; i++) if (keep.indexOf(names[i]) < 0) delete P[names[i]];
  ['Hours', 'Minutes', 'Seconds', 'Milliseconds', 'Day', 'Date', 'Month', 'FullYear'].forEach(function (k) {
    var utcGet = RealDate.prototype['getUTC' + k];
    P['get' + k] = function () {
      return utcGet.call(shifted(this));
    };
  });
  ['Hours', 'Minutes', 'Seconds', 'Milliseconds', 'Date', 'Month', 'FullYear'].forEach(function (k) {
    var utcSet = RealDate.prototype['setUTC' + k];
    P['set' + k] = function () {
      var s = shifted(this);
      utcSet.apply(s, arguments);
      return setTime.call(this, getTime.call(s) - tzMinutes() * 60000);
    };
  });
  P.getTimezoneOffset = function () {
    return -tzMinutes();
  };
  P.getIsDST = function () {
    return false;
  };
  function pad(x) {
    return (x < 10 ? '0' : '') + x;
  }
  function zone() {
    var t = tzMinutes();
    var a = Math.abs(t);
    return 'GMT' + (t < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + pad(a % 60);
  }
  P.toString = function () {
    var s = shifted(this);
    return (
      DAYS[s.getUTCDay()] +
      ' ' +
      MONTHS[s.getUTCMonth()] +
      ' ' +
      pad(s.getUTCDate()) +
      ' ' +
      s.getUTCFullYear() +
      ' ' +
      pad(s.getUTCHours()) +
      ':' +
      pad(s.getUTCMinutes()) +
      ':' +
      pad(s.getUTCSeconds()) +
      ' ' +
      zone()
    );
  };
  P.toUTCString = function () {
    var s = new RealDate(getTime.call(this));
    return (
      DAYS[s.getUTCDay()] +
      ', ' +
      pad(s.getUTCDate()) +
      ' ' +
      MONTHS[s.getUTCMonth()] +
      ' ' +
      s.getUTCFullYear() +
      ' ' +
      pad(s.getUTCHours()) +
      ':' +
      pad(s.getUTCMinutes()) +
      ':' +
      pad(s.getUTCSeconds()) +
      ' GMT'
    );
  };
  P.toLocalISOString = function () {
    var iso = shifted(this).toISOString();
    var t = tzMinutes();
    var a = Math.abs(t);
    return iso.slice(0, -1) + (t < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + pad(a % 60);
  };
  return Date;
}

export const dateFactorySource = `(${dateFactory.toString()})`;
