// The recovery ladder (firmware/supervisor/ladder.ts) as pure logic: which rung follows which failure, how
// long to wait, and that success starts again from the bottom.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createLadder, rungName, RECONNECT, REATTACH, POWER_CYCLE, POWER_CUT } from '../firmware/supervisor/ladder.ts';

describe('ladder.test.mjs', () => {
  it('failures climb the rungs in order, each after its limit, and stay at the top', () => {
    const l = createLadder();
    const rungs = [];
    for (let i = 0; i < 12; i++) rungs.push(l.fail(RECONNECT).rung);
    // limits 2, 1, 2, 1, 1, then the last rung for good
    assert.deepEqual(rungs, [0, 0, 1, 2, 2, 3, 4, 5, 5, 5, 5, 5]);
    assert.equal(rungName(POWER_CUT), 'cut the modem power (POWER_ON)');
  });

  it('evidence starts higher, success resets to the bottom', () => {
    const l = createLadder();
    assert.equal(l.fail(REATTACH).rung, REATTACH);
    assert.equal(l.fail(RECONNECT).rung, REATTACH, 'a lower hint does not climb down');
    assert.equal(l.fail(RECONNECT).rung, REATTACH + 1);
    l.ok();
    assert.equal(l.fail(RECONNECT).rung, RECONNECT);
    assert.equal(l.fail(POWER_CYCLE).rung, POWER_CYCLE);
  });

  it('waits double from about 2 s to at most 45 s, with ±20 % jitter, and start again after success', () => {
    const l = createLadder();
    const waits = [];
    for (let i = 0; i < 10; i++) waits.push(l.fail(RECONNECT).ms);
    const nominal = [2, 4, 8, 16, 32, 45, 45, 45, 45, 45];
    waits.forEach((ms, i) => assert.ok(ms >= nominal[i] * 800 && ms <= nominal[i] * 1200, `wait ${i}: ${ms} ms`));
    assert.ok(new Set(waits.slice(5)).size > 1, 'jitter: capped waits differ');
    l.ok();
    const first = l.fail(RECONNECT).ms;
    assert.ok(first >= 1600 && first <= 2400, `after success: ${first} ms`);
  });
});
