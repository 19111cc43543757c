// The +CME ERROR codes and texts both modem simulators answer with (the core's per-AT+CMEE
// answer): A76-ATM ch. "Summary of CME ERROR codes" (manual lines ~30790); the numbers are
// 3GPP TS 27.007 §9.2's, which the SIM800 uses as well.

export const CME = {
  0: 'phone failure',
  3: 'operation not allowed',
  4: 'operation not supported',
  10: 'SIM not inserted',
  11: 'SIM PIN required',
  12: 'SIM PUK required',
  13: 'SIM failure',
  14: 'SIM busy',
  15: 'SIM wrong',
  30: 'no network service',
  31: 'network timeout',
  50: 'Incorrect parameters',
  100: 'unknown error',
};
