// Why a session ended, as a driver sees it. Drivers report the cause; the supervisor's ladder
// (supervisor/ladder.ts) picks the rung that can mend it.
export const SESSION_LOST = 0; // the broker or the TCP connection went away; the data link is up
export const DATA_LOST = 1; // the data connection (PDP context / default bearer) went down
export const MODEM_LOST = 2; // the modem powered down or stopped answering
